// Ask the server to validate the spec a moment after the user stops changing it.
import { useEffect, useRef, useState } from "react";
import { problem, validateSpec } from "./builderApi";
import type { Problem, TeamSpec } from "./spec";

const DEBOUNCE_MS = 400;

export interface ValidationState {
  valid: boolean | null;
  problems: Problem[];
  checking: boolean;
}

export function useValidation(spec: TeamSpec): ValidationState {
  const [state, setState] = useState<ValidationState>({ valid: null, problems: [], checking: false });
  const latest = useRef(0);
  // Only what the server validates: moving nodes or panning does not change the answer.
  const { layout: _layout, ...content } = spec;
  const key = JSON.stringify(content);

  useEffect(() => {
    const ticket = ++latest.current;
    setState((s) => ({ ...s, checking: true }));
    const timer = window.setTimeout(async () => {
      try {
        const result = await validateSpec(spec);
        if (ticket === latest.current) setState({ ...result, checking: false });
      } catch (error) {
        const message = `Could not validate the team (${error instanceof Error ? error.message : error}); try again.`;
        if (ticket === latest.current) setState({ valid: null, problems: [problem(message)], checking: false });
      }
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
    // `key` stands for `spec` here: same content, same answer.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  return state;
}
