// The one browser bundle of the shared notes. Yjs must be loaded exactly once per page, so
// everything that touches it (y-websocket, the CodeMirror binding) is bundled together here.
// Rebuild: `npm ci --prefix js && sh js/build.sh` (see js/README.md).
export * as Y from "yjs";
export { WebsocketProvider } from "y-websocket";
export { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
export { EditorState } from "@codemirror/state";
export { EditorView, keymap, placeholder, drawSelection } from "@codemirror/view";
export { defaultKeymap, indentWithTab } from "@codemirror/commands";
export { markdownLanguage } from "@codemirror/lang-markdown";
export { LanguageSupport, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
export { default as MarkdownIt } from "markdown-it";
export { default as DOMPurify } from "dompurify";
