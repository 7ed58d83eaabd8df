// The metric names a PromQL expression reads, and the names the aTES metric
// contract (docs/adr/0032, issue 14) and the cluster's exporters provide. Shared
// by rules_check.mjs and dashboards_check.mjs: an alert or panel that reads a
// name outside KNOWN_METRICS reads nothing and never shows a problem.

const CONTRACT = [
  'grpc_server_handled_total',
  'ates_build_info',
  'process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_virtual_memory_bytes',
  'process_open_fds', 'process_max_fds', 'process_start_time_seconds',
  'ates_db_pool_connections', 'ates_db_pool_max_connections',
  'ates_consumer_pending_messages', 'ates_consumer_ack_pending_messages',
  'ates_dead_letters', 'ates_payout_emails_pending',
  'ates_scheduler_last_closed_day_end_seconds',
  'ates_events_published_total', 'ates_events_consumed_total', 'ates_events_duplicate_total',
  'ates_events_dead_lettered_total', 'ates_events_envelope_rejected_total',
  'ates_consumer_waiting_for_database', 'ates_consumer_transient_failures_total',
  'ates_consumer_retention_headroom_seconds',
  'ates_outbox_lag_events', 'ates_outbox_oldest_age_seconds', 'ates_outbox_relay_leader',
  'ates_scheduler_days_closed_total', 'ates_scheduler_clock_skew_seconds',
  'ates_payout_emails_sent_total', 'ates_payout_emails_failed_total',
  'ates_payout_emails_abandoned_total',
  'ates_reconcile_differences', 'ates_reconcile_runs_total',
  'ates_http_requests_total',
  // Not named by the contract, unchanged by it: internal/scheduler/scheduler_module.cpp.
  'ates_scheduler_close_refusals_total',
];
// Histograms are read through their _bucket, _sum and _count series.
const CONTRACT_HISTOGRAMS = ['grpc_server_handling_seconds', 'ates_http_request_duration_seconds'];
// Prometheus itself (up) and kube-state-metrics.
const EXTERNAL = ['up', 'kube_deployment_spec_replicas', 'kube_deployment_status_replicas_available'];

export const KNOWN_METRICS = new Set([
  ...CONTRACT,
  ...CONTRACT_HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
  ...EXTERNAL,
]);

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2']);

// Every metric name in `expr`: identifiers that are not inside strings, label
// matchers, range selectors or grouping clauses, not followed by "(" (functions,
// aggregations) and not operators.
export function metricNames(expr) {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set();
  for (const m of s.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = s.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

export function unknownMetrics(expr) {
  return metricNames(expr).filter((n) => !KNOWN_METRICS.has(n));
}
