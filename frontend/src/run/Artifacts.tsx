import { formatBytes } from "./format";
import type { Artifact } from "./types";

export function Artifacts({ artifacts }: { artifacts: Artifact[] }) {
  if (artifacts.length === 0) return null;
  return (
    <section className="artifacts" aria-label="Artifacts">
      <h2>Artifacts</h2>
      <ul>
        {artifacts.map((a) => (
          <li key={a.id}>
            {a.inline && <img src={a.url} alt={a.name} loading="lazy" />}
            <a href={a.url} download={a.name}>
              {a.name}
            </a>{" "}
            <span className="muted">
              {a.content_type}, {formatBytes(a.size)}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
