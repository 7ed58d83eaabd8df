import { Role } from "../gen/ates/common/v1/role_pb";
import { kRoleNames } from "../format";

const kRoles = [Role.WORKER, Role.ACCOUNTANT, Role.MANAGER, Role.ADMIN];

export function RoleSelect({ id, value, onChange, describedBy }: { id: string; value: Role; onChange: (r: Role) => void; describedBy?: string }) {
  return (
    <select id={id} value={String(value)} aria-describedby={describedBy}
      onChange={(e) => onChange(Number(e.currentTarget.value) as Role)}>
      {kRoles.map((r) => <option key={r} value={String(r)}>{kRoleNames[r]}</option>)}
    </select>
  );
}
