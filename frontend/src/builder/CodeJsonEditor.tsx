// A JSON code editor (CodeMirror 6) that parses as you type: the value changes only while the
// text parses (and is an object, for schemas); otherwise the error is underlined in place and
// told below the editor. Loaded on demand through JsonEditor.tsx: CodeMirror is a third of the
// builder's code and only the inspector's JSON fields need it.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { json, jsonParseLinter } from "@codemirror/lang-json";
import { bracketMatching, foldGutter, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { type Diagnostic, linter, lintGutter } from "@codemirror/lint";
import { Annotation, EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, placeholder as placeholderText } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { useEffect, useId, useRef, useState } from "react";
import { jsonProblem } from "./jsonProblem";

export interface JsonEditorProps {
  label: string;
  value: Record<string, unknown> | null;
  onChange: (value: Record<string, unknown> | null) => void;
  placeholder?: string;
  testId?: string;
}

// Colours with at least 4.5:1 contrast on white, so they stay readable.
const jsonColours = HighlightStyle.define([
  { tag: tags.propertyName, color: "#1d4ed8" },
  { tag: tags.string, color: "#047857" },
  { tag: tags.number, color: "#b45309" },
  { tag: [tags.bool, tags.null], color: "#7e22ce" },
  { tag: tags.invalid, color: "#b91c1c" },
]);

// The page's CSP nonce for styles: CodeMirror adds a style element of its own.
const styleNonce = () => document.getElementById("builder-root")?.dataset.styleNonce ?? "";

// Marks the editor's own updates from outside, which must not be echoed back as edits.
const external = Annotation.define<boolean>();

const show = (value: unknown) => (value == null ? "" : JSON.stringify(value, null, 2));

// Parse errors come from lang-json's linter; "not an object" is ours, over the whole text.
const objectLinter = (view: EditorView): Diagnostic[] => {
  const text = view.state.doc.toString();
  const problem = jsonProblem(text);
  if (!problem || problem.kind !== "not-object") return [];
  return [{ from: 0, to: text.length, severity: "error", message: problem.message }];
};

// An empty field means "none", not a syntax error.
const parseLinter = jsonParseLinter();
const syntaxLinter = (view: EditorView): Diagnostic[] => (view.state.doc.toString().trim() ? parseLinter(view) : []);

export default function CodeJsonEditor({ label, value, onChange, placeholder, testId }: JsonEditorProps) {
  const id = useId();
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const [error, setError] = useState("");
  const latest = useRef(onChange);
  latest.current = onChange;

  useEffect(() => {
    const edited = EditorView.updateListener.of((update) => {
      if (!update.docChanged || update.transactions.every((t) => t.annotation(external))) return;
      const text = update.state.doc.toString();
      const problem = jsonProblem(text);
      setError(problem?.message ?? "");
      if (!problem) latest.current(text.trim() === "" ? null : (JSON.parse(text) as Record<string, unknown>));
    });
    view.current = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: show(value),
        extensions: [
          lineNumbers(),
          foldGutter(),
          lintGutter(),
          history(),
          bracketMatching(),
          json(),
          syntaxHighlighting(jsonColours),
          linter(syntaxLinter, { delay: 200 }),
          linter(objectLinter, { delay: 200 }),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          placeholderText(placeholder ?? "empty: none"),
          EditorView.lineWrapping,
          EditorView.cspNonce.of(styleNonce()),
          EditorView.contentAttributes.of({
            "aria-labelledby": `${id}-label`,
            "aria-multiline": "true",
            role: "textbox",
            ...(testId ? { "data-testid": testId } : {}),
          }),
          edited,
        ],
      }),
    });
    return () => view.current?.destroy();
    // The editor is made once; value changes from outside are followed below.
  }, []);

  // Follow outside changes (undo, another node selected) unless they are what was typed.
  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    if (sameJson(current, value)) return;
    editor.dispatch({ changes: { from: 0, to: current.length, insert: show(value) }, annotations: external.of(true) });
    setError("");
  }, [value]);

  useEffect(() => {
    view.current?.contentDOM.setAttribute("aria-invalid", String(Boolean(error)));
    if (error) view.current?.contentDOM.setAttribute("aria-describedby", `${id}-error`);
    else view.current?.contentDOM.removeAttribute("aria-describedby");
  }, [error, id]);

  return (
    <div className="field">
      <label id={`${id}-label`} onClick={() => view.current?.focus()}>
        {label}
      </label>
      <div ref={host} className={`json-editor code-editor${error ? " is-invalid" : ""}`} />
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}


function sameJson(text: string, value: unknown): boolean {
  try {
    return JSON.stringify(text.trim() ? JSON.parse(text) : null) === JSON.stringify(value ?? null);
  } catch {
    return false;
  }
}
