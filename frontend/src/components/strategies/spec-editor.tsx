"use client";
// The spec's JSON in CodeMirror 6: highlighting, folding, bracket matching, search, and the problems the
// page found (a syntax error, the API's errors at their paths) as lint diagnostics with a gutter.

import { json } from "@codemirror/lang-json";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { Compartment, EditorSelection, EditorState } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { basicSetup, EditorView } from "codemirror";
import { useEffect, useImperativeHandle, useRef, type Ref } from "react";

import { useSettings, type Theme } from "@/lib/settings";

import { minimalChange } from "./spec-json";

export interface SpecEditorHandle {
  /** Put the cursor on a range and scroll it into view (a problem in the list was chosen). */
  select(from: number, to: number): void;
}

const PALETTES: Record<Theme, Record<string, string>> = {
  light: {
    background: "#ffffff",
    text: "#0f172a",
    gutter: "#f8fafc",
    gutterText: "#475569",
    border: "#e2e8f0",
    active: "#f1f5f9",
    selection: "#bae6fd",
    property: "#0369a1",
    string: "#047857",
    number: "#b45309",
    literal: "#7c3aed",
    punctuation: "#475569",
  },
  dark: {
    background: "#0f172a",
    text: "#e2e8f0",
    gutter: "#0b1222",
    gutterText: "#94a3b8",
    border: "#1e293b",
    active: "#1e293b",
    selection: "#075985",
    property: "#7dd3fc",
    string: "#6ee7b7",
    number: "#fcd34d",
    literal: "#c4b5fd",
    punctuation: "#94a3b8",
  },
};

function look(theme: Theme) {
  const colors = PALETTES[theme];
  return [
    EditorView.theme(
      {
        "&": { backgroundColor: colors.background, color: colors.text, height: "100%", fontSize: "13px" },
        ".cm-scroller": { fontFamily: "var(--font-mono)", lineHeight: "1.5" },
        ".cm-content": { caretColor: colors.text },
        ".cm-cursor, .cm-dropCursor": { borderLeftColor: colors.text },
        ".cm-gutters": { backgroundColor: colors.gutter, color: colors.gutterText, borderRight: `1px solid ${colors.border}` },
        ".cm-activeLine": { backgroundColor: colors.active },
        ".cm-activeLineGutter": { backgroundColor: colors.active },
        "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground": { backgroundColor: colors.selection },
        ".cm-tooltip": { backgroundColor: colors.gutter, color: colors.text, border: `1px solid ${colors.border}` },
        ".cm-diagnostic": { whiteSpace: "pre-wrap", fontFamily: "var(--font-mono)", fontSize: "12px" },
        ".cm-panels": { backgroundColor: colors.gutter, color: colors.text },
      },
      { dark: theme === "dark" },
    ),
    syntaxHighlighting(
      HighlightStyle.define([
        { tag: tags.propertyName, color: colors.property },
        { tag: tags.string, color: colors.string },
        { tag: tags.number, color: colors.number },
        { tag: [tags.bool, tags.null], color: colors.literal },
        { tag: [tags.separator, tags.brace, tags.squareBracket], color: colors.punctuation },
      ]),
    ),
  ];
}

export function SpecEditor({ value, onChange, diagnostics, diagnosticsText, label, describedBy, onSave, ref }: {
  value: string;
  onChange: (text: string) => void;
  diagnostics: readonly Diagnostic[];
  /** The text the diagnostics were found in: they are shown only while the document is that text. */
  diagnosticsText: string | null;
  label: string;
  describedBy?: string;
  onSave?: () => void;
  ref?: Ref<SpecEditorHandle>;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const themeSlot = useRef(new Compartment());
  const { theme } = useSettings();
  const latest = useRef({ onChange, onSave });
  latest.current = { onChange, onSave };
  const initial = useRef({ value, theme, label, describedBy });

  useEffect(() => {
    if (!host.current) return;
    const start = initial.current;
    const attributes: Record<string, string> = { "aria-label": start.label };
    if (start.describedBy) attributes["aria-describedby"] = start.describedBy;
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: start.value,
        extensions: [
          keymap.of([{ key: "Mod-s", preventDefault: true, run: () => (latest.current.onSave?.(), true) }]),
          basicSetup,
          json(),
          lintGutter(),
          EditorView.lineWrapping,
          themeSlot.current.of(look(start.theme)),
          EditorView.contentAttributes.of(attributes),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) latest.current.onChange(update.state.doc.toString());
          }),
        ],
      }),
    });
    // Its scroller can be reached with the keyboard too (axe: scrollable regions must be focusable).
    editor.scrollDOM.tabIndex = 0;
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    view.current?.dispatch({ effects: themeSlot.current.reconfigure(look(theme)) });
  }, [theme]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const change = minimalChange(editor.state.doc.toString(), value);
    if (change) editor.dispatch({ changes: change });
  }, [value]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString() === diagnosticsText;
    editor.dispatch(setDiagnostics(editor.state, current ? diagnostics : []));
  }, [diagnostics, diagnosticsText]);

  useImperativeHandle(ref, () => ({
    select(from: number, to: number) {
      const editor = view.current;
      if (!editor) return;
      const length = editor.state.doc.length;
      editor.dispatch({
        selection: EditorSelection.range(Math.min(from, length), Math.min(to, length)),
        effects: EditorView.scrollIntoView(Math.min(from, length), { y: "center" }),
      });
      editor.focus();
    },
  }));

  return (
    <div
      ref={host}
      data-testid="spec-editor"
      className="h-[36rem] overflow-hidden rounded-md border border-slate-300 focus-within:ring-2 focus-within:ring-sky-600 dark:border-slate-700"
    />
  );
}
