/**
 * A preview's result, as "Try it" shows it: first whether this workflow matched (and if not, the
 * check that failed), then one line per command that would be sent, in plain words, and the exact
 * commands as JSON (as sent, minus the relay's own `source` label) in a <details> for whoever needs
 * them. Rendered on its own too, as the fragment the live preview swaps in.
 */
import type { MatchExplanation } from "../../domain/workflow/explain";
import type { previewEvent } from "../../services/preview";
import { prettyJson } from "../format";
import { filterSentence, filterSubject, shownValue } from "../workflow-labels";

export type PreviewView = Awaited<ReturnType<typeof previewEvent>>;

type Source = PreviewView["commands"][number]["source"];
type Command = PreviewView["commands"][number]["command"];

function sourceText(source: Source): string {
  if (source.kind === "mapping") return "from the synced fields";
  if (source.kind === "event_sync") return `from event sync of ${source.action}`;
  if (source.kind === "inbound_rule") return `from the rule for Bloomreach's ${source.eventType}`;
  return `from workflow “${source.workflowName}”`;
}

const names = (record: Record<string, unknown> | undefined) => Object.keys(record ?? {}).join(", ") || "none";

/** One command in words: what Bloomreach would be asked to do, and for whom. */
function commandText(command: Command): string {
  const data = command.data as { customer_ids?: Record<string, string>; properties?: Record<string, unknown> };
  const who = Object.entries(data.customer_ids ?? {})
    .map(([key, value]) => `${key} ${value}`)
    .join(", ");
  if (command.name === "customers/events") {
    const event = (command.data as { event_type?: string }).event_type;
    return `Track event ${event} for ${who} (properties: ${names(data.properties)})`;
  }
  if (command.name === "customers") return `Update customer ${who}: ${names(data.properties)}`;
  return `${(command as { name: string }).name} for ${who}`;
}

/** Why the workflow did not match, naming the check that failed. */
export function explanationText(explanation: Exclude<MatchExplanation, { matched: true }>): string {
  if (explanation.reason === "trigger")
    return `it starts on the Antavo event ${explanation.expected}, and the sample's action is ${explanation.actual}.`;
  if (explanation.reason === "window") return "the campaign is not running at this time (see its start and end).";
  const { filter, index, actual } = explanation;
  const read =
    actual === undefined || actual === null
      ? `${filterSubject(filter.type)} ${filter.attribute} has no value`
      : `${filterSubject(filter.type)} ${filter.attribute} is ${shownValue(actual)}`;
  return `filter ${index + 1} (${filterSentence(filter)}) did not pass: ${read}.`;
}

export function PreviewResult(props: { preview: PreviewView; workflowId?: string; explanation?: MatchExplanation }) {
  const { preview, workflowId, explanation } = props;
  const mine = (source: Source) =>
    workflowId !== undefined && source.kind === "workflow" && source.workflowId === workflowId;
  const ownCount =
    preview.commands.filter((c) => mine(c.source)).length + preview.actions.filter((a) => mine(a.source)).length;
  const raw = preview.commands.map((c) => c.command);
  return (
    <div class="preview">
      <h3>Result</h3>
      {workflowId !== undefined ? (
        explanation && !explanation.matched ? (
          <div class="notice warn" role="status">
            <strong>This workflow did not match:</strong> {explanationText(explanation)}
          </div>
        ) : (
          <p>
            {ownCount > 0 ? (
              <span class="badge ok">{`this workflow matched: ${ownCount} command(s)/action(s)`}</span>
            ) : (
              <span class="badge muted">this workflow matched but produced nothing for this sample</span>
            )}
          </p>
        )
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
      <h4>{`Would send to Bloomreach (${preview.commands.length})`}</h4>
      {preview.commands.length === 0 ? (
        <p class="hint">Nothing would be sent to Bloomreach.</p>
      ) : (
        <ol class="summary">
          {preview.commands.map((c) => (
            <li class={mine(c.source) ? "mine" : undefined}>
              {commandText(c.command)} <span class="hint">{sourceText(c.source)}</span>
            </li>
          ))}
        </ol>
      )}
      {preview.actions.length > 0 ? (
        <>
          <h4>{`Would ask Antavo (${preview.actions.length})`}</h4>
          <ol class="summary">
            {preview.actions.map((a) => (
              <li class={mine(a.source) ? "mine" : undefined}>
                {`Claim reward ${a.rewardId} for customer ${a.customerId}${a.free ? ", free (no points spent)" : ""}`}{" "}
                <span class="hint">{sourceText(a.source)}</span>
              </li>
            ))}
          </ol>
        </>
      ) : null}
      {raw.length > 0 ? (
        <details>
          <summary>The exact Bloomreach commands (JSON)</summary>
          <pre>{prettyJson(raw)}</pre>
        </details>
      ) : null}
      {preview.actions.length > 0 ? (
        <details>
          <summary>The Antavo actions (JSON)</summary>
          <pre>
            {prettyJson(
              preview.actions.map((a) => ({
                type: a.type,
                customerId: a.customerId,
                rewardId: a.rewardId,
                free: a.free,
              })),
            )}
          </pre>
        </details>
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
