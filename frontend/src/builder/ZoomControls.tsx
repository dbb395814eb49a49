// Zoom controls people can read: large labelled buttons and the zoom level as a percentage.
import { Panel, useReactFlow, useViewport } from "@xyflow/react";

export function ZoomControls({ onFit }: { onFit: () => void }) {
  const flow = useReactFlow();
  const { zoom } = useViewport();
  return (
    <Panel position="bottom-left" className="zoom-controls" aria-label="Zoom">
      <button type="button" onClick={() => flow.zoomOut({ duration: 150 })} aria-label="Zoom out" title="Zoom out">
        −
      </button>
      <button
        type="button"
        className="zoom-level"
        onClick={() => flow.zoomTo(1, { duration: 150 })}
        aria-label={`Zoom ${Math.round(zoom * 100)}%: reset to 100%`}
        title="Reset to 100%"
        data-testid="zoom-level"
      >
        {Math.round(zoom * 100)}%
      </button>
      <button type="button" onClick={() => flow.zoomIn({ duration: 150 })} aria-label="Zoom in" title="Zoom in">
        +
      </button>
      <button type="button" onClick={onFit} aria-label="Fit the team in view" title="Fit the team in view">
        Fit
      </button>
    </Panel>
  );
}
