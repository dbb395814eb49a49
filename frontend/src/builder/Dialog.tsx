// A modal <dialog>: the browser gives focus trapping and Escape to close.
import { type ReactNode, useEffect, useRef } from "react";

interface Props {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
}

export function Dialog({ title, open, onClose, children, testId }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-label={title} onClose={onClose} data-testid={testId}>
      <div className="dialog-head">
        <h2>{title}</h2>
        <button type="button" onClick={onClose} aria-label={`Close ${title.toLowerCase()}`}>
          ×
        </button>
      </div>
      {open && children}
    </dialog>
  );
}
