// What a failed call means for the page: a sentence for the user and, for
// INVALID_ARGUMENT, the server's google.rpc.BadRequest field violations keyed
// by field name so that forms can show them beside their fields.
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "../gen/google/rpc/error_details_pb";

export type FieldErrors = Record<string, string>;

export function fieldErrorsOf(err: unknown): FieldErrors {
  const out: FieldErrors = {};
  if (err == null) return out;
  for (const detail of ConnectError.from(err).findDetails(BadRequestSchema)) {
    for (const v of detail.fieldViolations) {
      out[v.field] = out[v.field] ? `${out[v.field]}; ${v.description}` : v.description;
    }
  }
  return out;
}

const kCodeWords: Partial<Record<Code, string>> = {
  [Code.InvalidArgument]: "Invalid input",
  [Code.NotFound]: "Not found",
  [Code.AlreadyExists]: "Already exists",
  [Code.FailedPrecondition]: "Not possible now",
  [Code.PermissionDenied]: "Not allowed",
  [Code.Unauthenticated]: "Not signed in",
  [Code.Unavailable]: "Service unavailable, try again",
  [Code.DeadlineExceeded]: "The server took too long",
};

export function messageOf(err: unknown): string {
  const e = ConnectError.from(err);
  const words = kCodeWords[e.code] ?? `Error (${Code[e.code]})`;
  return e.rawMessage ? `${words}: ${e.rawMessage}` : words;
}

export function codeOf(err: unknown): Code {
  return ConnectError.from(err).code;
}
