// Create a task; the server's field violations (title, jira_id, description)
// appear beside their fields, anything else above the form.
import { useState } from "preact/hooks";
import { taskClient } from "../api/clients";
import { fieldErrorsOf, type FieldErrors } from "../api/errors";
import type { Task } from "../gen/ates/tasks/v1/task_service_pb";
import { Field } from "./Field";
import { ErrorText } from "./ErrorText";
import { taskLabel } from "../format";

const kEmpty = { title: "", jiraId: "", description: "" };

export function CreateTaskForm({ onCreated }: { onCreated: (task: Task) => void }) {
  const [form, setForm] = useState(kEmpty);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState("");
  const set = (key: keyof typeof kEmpty) => (e: Event) =>
    setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
  async function submit(e: Event) {
    e.preventDefault();
    setCreated("");
    try {
      const r = await taskClient.createTask({ ...form, requestId: crypto.randomUUID() });
      setFieldErrors({});
      setError(null);
      setForm(kEmpty);
      setCreated(`Created ${taskLabel(r.task?.title ?? "", r.task?.jiraId ?? "")}.`);
      if (r.task) onCreated(r.task);
    } catch (err) {
      const fields = fieldErrorsOf(err);
      setFieldErrors(fields);
      setError(Object.keys(fields).length ? null : err);
    }
  }
  return (
    <form class="card" onSubmit={submit} aria-labelledby="create-task-title" noValidate>
      <h2 id="create-task-title">New task</h2>
      <ErrorText error={error} />
      <Field label="Title" error={fieldErrors.title}>
        {(id, desc) => <input id={id} name="title" value={form.title} onInput={set("title")} aria-describedby={desc} aria-invalid={!!desc} />}
      </Field>
      <Field label="Jira id (e.g. UP-42)" error={fieldErrors.jira_id}>
        {(id, desc) => <input id={id} name="jira_id" value={form.jiraId} onInput={set("jiraId")} aria-describedby={desc} aria-invalid={!!desc} />}
      </Field>
      <Field label="Description" error={fieldErrors.description}>
        {(id, desc) => <textarea id={id} name="description" rows={3} value={form.description} onInput={set("description")} aria-describedby={desc} aria-invalid={!!desc} />}
      </Field>
      <button type="submit" class="primary">Create task</button>
      <p class="status" role="status">{created}</p>
    </form>
  );
}
