// A from/to pair of business dates; empty means "today" on the server.
import { Field } from "./Field";

export interface Range {
  from: string;
  to: string;
}

export function DateRange({ value, onChange, legend }: { value: Range; onChange: (r: Range) => void; legend: string }) {
  return (
    <fieldset class="inline">
      <legend>{legend}</legend>
      <Field label="From (business day)">
        {(id) => (
          <input id={id} type="date" value={value.from}
            onChange={(e) => onChange({ ...value, from: e.currentTarget.value })} />
        )}
      </Field>
      <Field label="To (business day)">
        {(id) => (
          <input id={id} type="date" value={value.to}
            onChange={(e) => onChange({ ...value, to: e.currentTarget.value })} />
        )}
      </Field>
    </fieldset>
  );
}
