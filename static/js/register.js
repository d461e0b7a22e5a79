// On the registration form, offer only the workshops of the chosen site.
const site = document.getElementById("site");
function filter() {
  for (const option of document.querySelectorAll("select[id^=wish] option[data-site]")) {
    const other = site.value && option.dataset.site !== site.value;
    option.hidden = other;
    option.disabled = other;
    if (other && option.selected) option.parentElement.value = "";
  }
  // With several rounds, a round without any workshop on the chosen site is not asked.
  for (const round of document.querySelectorAll("fieldset[data-round]")) {
    round.hidden = Boolean(site.value) && !round.querySelector("option[data-site]:not([disabled])");
  }
}
if (site) {
  site.addEventListener("change", filter);
  filter();
}
