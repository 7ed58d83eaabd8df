import { messageOf } from "../api/errors";

/** A failed call in words, announced to screen readers. */
export function ErrorText({ error }: { error: unknown }) {
  if (error == null) return null;
  return (
    <p class="error" role="alert">
      {messageOf(error)}
    </p>
  );
}
