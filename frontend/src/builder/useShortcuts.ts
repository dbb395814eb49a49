// Keyboard shortcuts of the canvas. In a text field the browser's own editing keys win,
// except Ctrl/Cmd+S which saves from anywhere.
import { useEffect, useRef } from "react";

export interface ShortcutHandlers {
  save: () => void;
  remove: () => void;
  undo: () => void;
  redo: () => void;
  copy: () => void;
  paste: () => void;
  selectAll: () => void;
}

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || Boolean(target.closest("dialog"));
}

export function useShortcuts(handlers: ShortcutHandlers): void {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const h = latest.current;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (mod && key === "s") {
        event.preventDefault();
        h.save();
        return;
      }
      if (isEditable(event.target)) return;
      const action = mod
        ? { z: event.shiftKey ? h.redo : h.undo, y: h.redo, c: h.copy, v: h.paste, a: h.selectAll }[key]
        : key === "delete" || key === "backspace"
          ? h.remove
          : undefined;
      if (!action) return;
      event.preventDefault();
      action();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
