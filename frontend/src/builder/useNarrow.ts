// Whether the screen is phone-narrow: the builder is then read-only (see docs/builder.md).
import { useEffect, useState } from "react";

export const NARROW = "(max-width: 700px)";

export function useNarrow(): boolean {
  const query = typeof window.matchMedia === "function" ? window.matchMedia(NARROW) : null;
  const [narrow, setNarrow] = useState(query?.matches ?? false);
  useEffect(() => {
    if (!query) return;
    const follow = () => setNarrow(query.matches);
    query.addEventListener("change", follow);
    return () => query.removeEventListener("change", follow);
  }, [query]);
  return narrow;
}
