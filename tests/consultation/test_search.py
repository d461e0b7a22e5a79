"""Full-text search in French: accents and plurals, filters, ranking, snippets, bounds;
and only what is published."""

from __future__ import annotations

from live.consultation.model import ExperienceReport
from live.consultation.search import (
    LIMIT_MAX,
    QUERY_MAX,
    TERMS_MAX,
    SearchIndex,
    highlight,
    report_id,
    terms,
)
from tests.consultation.world import EGN, contribution, departements, proposal


def index() -> SearchIndex:
    built = SearchIndex()
    built.rebuild(departements())
    return built


def found(query: str, **filters: object) -> list[str]:
    return [h.id for h in index().search(query, **filters).hits]  # type: ignore[arg-type]


def test_a_plural_finds_the_singular_and_back() -> None:
    assert "ariege-2020/p1" in found("équipement numérique")  # "équipements numériques"
    assert "ariege-2020/p2" in found("formations")  # "Former", "formations"


def test_accents_do_not_matter_either_way() -> None:
    assert "haute-garonne-2020/p3" in found("élève")  # written "eleve", "eleves"
    assert "ariege-2020/p1" in found("eleves")  # written "élève", "élèves"
    assert found("acces reseau") == ["haute-garonne-2020/p4"]  # "Accès au réseau"


def test_every_word_must_be_there() -> None:
    assert found("ordinateur tablettes") == []
    assert found("ordinateur") == ["haute-garonne-2020/p3", "ariege-2020/p1"]


def test_a_word_in_the_title_weighs_more_than_in_the_body() -> None:
    # "ordinateur" is in p3's title, only in p1's body.
    assert found("ordinateur")[0] == "haute-garonne-2020/p3"


def test_arguments_are_searched_too() -> None:
    assert found("confinement") == ["ariege-2020/p1"]


def test_filters_by_theme_subject_event_and_territory_within() -> None:
    assert found("numérique", theme="enseigner") == ["ariege-2020/p2"]
    assert found("familles OR fracture") == []  # no operators: words only
    assert found("fracture", subject="egalite") == ["pamiers-2020/p1"]
    assert found("fracture", subject="inclusion") == []
    assert found("ordinateur", event="ariege-2020") == ["ariege-2020/p1"]
    tree = EGN.territories()
    assert found("fracture", territories=tree.descendants("dep-09")) == ["pamiers-2020/p1"]
    assert found("fracture", territories=tree.descendants("dep-31")) == []
    assert found("écoles", territories=tree.descendants("ac-toulouse")) == ["haute-garonne-2020/p4"]


def test_an_unpublished_contribution_is_never_found() -> None:
    built = index()
    built.remove("vienne-2020")
    assert [h.id for h in built.search("tablettes").hits] == []
    built.replace(contribution("vienne-2020", proposal("vienne-2020", "p2", "Des tablettes")))
    assert [h.id for h in built.search("tablettes").hits] == ["vienne-2020/p2"]
    built.replace(contribution("vienne-2020"))  # published again with nothing
    assert [h.id for h in built.search("tablettes").hits] == []


def test_experience_reports_are_found_with_their_presenters() -> None:
    c = contribution("vienne-2020").model_copy(
        update={
            "reports": (
                ExperienceReport(
                    id="ateliers-1",
                    title="Un ENT commun aux dix départements",
                    presenters=("Délégation académique au numérique",),
                    summary="Mon bureau numérique pendant le confinement.",
                ),
            )
        }
    )
    built = index()
    built.replace(c)
    hits = built.search("délégation").hits
    assert [(h.id, h.kind) for h in hits] == [(report_id("vienne-2020", "ateliers-1"), "report")]
    assert [h.id for h in built.search("confinement", kind="proposal").hits] == ["ariege-2020/p1"]


def test_a_hit_marks_the_words_found_in_its_title_and_snippet() -> None:
    (hit,) = index().search("fractures").hits
    assert ("fracture", True) in hit.snippet
    assert "".join(text for text, _ in hit.snippet) == (
        "La fracture numérique touche les villages de montagne."
    )


def test_a_long_body_is_cut_around_the_first_hit() -> None:
    text = " ".join(f"mot{i}" for i in range(100)) + " tablettes " + "fin " * 50
    segments = highlight(text, frozenset(terms("tablette")), words=30)
    assert segments[0] == ("…", False) and segments[-1] == ("…", False)
    assert ("tablettes", True) in segments
    assert len("".join(t for t, _ in segments).split()) <= 32


def test_a_query_is_bounded_in_length_words_and_results() -> None:
    assert terms("numérique" + " école" * QUERY_MAX) == ["numer", "ecol"]
    assert terms(" " * QUERY_MAX + "numérique") == []
    assert terms("x" * 41) == []
    many = " ".join(f"mot{i}" for i in range(50))
    assert len(terms(many)) == TERMS_MAX
    built = SearchIndex()
    built.replace(
        contribution(
            "ariege-2020",
            *(proposal("ariege-2020", f"p{i}", f"Tablette {i}") for i in range(LIMIT_MAX + 20)),
        )
    )
    results = built.search("tablette", limit=10 * LIMIT_MAX)
    assert len(results.hits) == LIMIT_MAX and results.more
    assert built.search("tablette", offset=LIMIT_MAX).more is False


def test_stop_words_alone_find_nothing() -> None:
    assert terms("le la les des") == []
    assert index().search("le la les").hits == ()


def test_two_indexes_of_the_same_contributions_answer_the_same_in_any_order() -> None:
    forward, backward = SearchIndex(), SearchIndex()
    forward.rebuild(departements())
    backward.rebuild(reversed(departements()))
    for query in ("numérique", "élèves", "écoles", "ordinateur portable"):
        assert forward.search(query) == backward.search(query)
