// A labelled form field with the server's violation for it shown beside it.
import type { ComponentChildren } from "preact";
import { useId } from "preact/hooks";

interface FieldProps {
  label: string;
  error?: string;
  children: (id: string, describedBy: string | undefined) => ComponentChildren;
}

export function Field({ label, error, children }: FieldProps) {
  const id = useId();
  const errorId = error ? `${id}-error` : undefined;
  return (
    <div class={error ? "field invalid" : "field"}>
      <label for={id}>{label}</label>
      {children(id, errorId)}
      {error && (
        <span class="field-error" id={errorId} data-field-error>
          {error}
        </span>
      )}
    </div>
  );
}
