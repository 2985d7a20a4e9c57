/**
 * An editable list of rows (field mappings, synced events). Without JavaScript, "Add a row" and
 * "Remove" are submit buttons the server answers by showing the edited form unsaved; with it, the
 * page script does the same in place from the <template>. Blank rows are ignored on save.
 */
import { Field, type FormState, Select } from "./form";

export interface RowColumn {
  key: string;
  label: string;
  list?: string;
  placeholder?: string;
  /** A fixed choice (value, label) instead of a text input; the first option is the default. */
  options?: readonly [value: string, label: string][];
}

const TEMPLATE_INDEX = "__i__";

function Row(props: { path: string; index: number | string; columns: RowColumn[]; state: FormState }) {
  const label = typeof props.index === "number" ? ` ${props.index + 1}` : "";
  return (
    <div class={`row${props.columns.length > 2 ? " three" : ""}`} data-row>
      {props.columns.map((column) => {
        const path = `${props.path}.${props.index}.${column.key}`;
        const text = `${column.label}${label ? ` (row${label})` : ""}`;
        return column.options ? (
          <Select path={path} label={text} state={props.state} options={column.options} />
        ) : (
          <Field path={path} label={text} state={props.state} list={column.list} placeholder={column.placeholder} />
        );
      })}
      <button
        type="submit"
        name="_remove"
        value={String(props.index)}
        class="secondary small"
        data-remove-row
        formnovalidate
      >
        Remove<span class="visually-hidden">{` row${label}`}</span>
      </button>
    </div>
  );
}

export function RowsEditor(props: {
  path: string;
  legend: string;
  hint?: string;
  columns: RowColumn[];
  state: FormState;
  rows: unknown[];
  emptyText: string;
  addLabel: string;
}) {
  const count = props.rows.length;
  return (
    <fieldset class="card" data-rows>
      <legend>
        <strong>{props.legend}</strong>
      </legend>
      {props.hint ? <p class="hint">{props.hint}</p> : null}
      {count === 0 ? (
        <p class="hint" data-rows-empty>
          {props.emptyText}
        </p>
      ) : null}
      <div class="rows" data-rows-list data-next={String(Math.max(count, 1))}>
        {(count === 0 ? [{}] : props.rows).map((_, index) => (
          <Row path={props.path} index={index} columns={props.columns} state={props.state} />
        ))}
      </div>
      <template data-row-template>
        <Row path={props.path} index={TEMPLATE_INDEX} columns={props.columns} state={{ values: {}, issues: [] }} />
      </template>
      <div class="actions">
        <button type="submit" name="_add" value="1" class="secondary" data-add-row formnovalidate>
          {props.addLabel}
        </button>
      </div>
    </fieldset>
  );
}

/** Keeps the form's default (Enter key) action on Save, not on the first Remove button. */
export function DefaultSubmit() {
  return (
    <button type="submit" class="visually-hidden" tabindex={-1} aria-hidden="true">
      Save
    </button>
  );
}
