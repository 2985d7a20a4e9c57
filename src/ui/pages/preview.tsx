/**
 * A preview's result: the exact Bloomreach commands (as sent, minus the relay's own `source`
 * label, which says why each exists), the Antavo actions and the planner's warnings. Rendered on
 * its own too, as the fragment the live preview swaps in.
 */
import type { previewEvent } from "../../services/preview";
import { prettyJson } from "../format";

export type PreviewView = Awaited<ReturnType<typeof previewEvent>>;

type Source = PreviewView["commands"][number]["source"];

function sourceText(source: Source): string {
  if (source.kind === "mapping") return "from the synced fields";
  if (source.kind === "event_sync") return `from event sync of ${source.action}`;
  if (source.kind === "inbound_rule") return `from the rule for Bloomreach's ${source.eventType}`;
  return `from workflow “${source.workflowName}”`;
}

export function PreviewResult(props: { preview: PreviewView; workflowId?: string }) {
  const { preview, workflowId } = props;
  const mine = (source: Source) =>
    workflowId !== undefined && source.kind === "workflow" && source.workflowId === workflowId;
  const ownCount =
    preview.commands.filter((c) => mine(c.source)).length + preview.actions.filter((a) => mine(a.source)).length;
  return (
    <div class="preview">
      <h3>Result</h3>
      {workflowId !== undefined ? (
        <p>
          {ownCount > 0 ? (
            <span class="badge ok">{`this workflow matched: ${ownCount} command(s)/action(s)`}</span>
          ) : (
            <span class="badge muted">this workflow did not produce anything for this event</span>
          )}
        </p>
      ) : null}
      {preview.warnings.length > 0 ? (
        <div class="notice warn">
          <strong>Warnings</strong>
          <ul>
            {preview.warnings.map((w) => (
              <li>{w}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <h4>{`Bloomreach commands (${preview.commands.length})`}</h4>
      {preview.commands.length === 0 ? <p class="hint">None: nothing would be sent to Bloomreach.</p> : null}
      {preview.commands.map((c, index) => (
        <div class={`cmd${mine(c.source) ? " mine" : ""}`}>
          <p class="hint">{`#${index + 1} ${c.command.name}, ${sourceText(c.source)}`}</p>
          <pre>{prettyJson(c.command)}</pre>
        </div>
      ))}
      {preview.actions.length > 0 ? (
        <>
          <h4>{`Antavo actions (${preview.actions.length})`}</h4>
          {preview.actions.map((a) => (
            <div class={`cmd${mine(a.source) ? " mine" : ""}`}>
              <p class="hint">{sourceText(a.source)}</p>
              <pre>{prettyJson({ type: a.type, customerId: a.customerId, rewardId: a.rewardId, free: a.free })}</pre>
            </div>
          ))}
        </>
      ) : null}
      {preview.afterClaims.length > 0 ? (
        <details>
          <summary>Actions that run after a claim (rendered with Antavo's answer)</summary>
          <pre>{prettyJson(preview.afterClaims)}</pre>
        </details>
      ) : null}
      <details>
        <summary>Customer snapshot used</summary>
        <pre>{prettyJson(preview.customer)}</pre>
      </details>
    </div>
  );
}
