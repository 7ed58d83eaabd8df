// One Connect transport to the page's own origin (the gateway), and a typed
// client per service. The session travels as the gateway's HttpOnly cookie,
// which fetch sends on same-origin requests; the script never holds a token.
import { createClient, type Interceptor, ConnectError, Code } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthService } from "../gen/ates/auth/v1/auth_service_pb";
import { TaskService } from "../gen/ates/tasks/v1/task_service_pb";
import { BillingService } from "../gen/ates/billing/v1/billing_service_pb";
import { AnalyticsService } from "../gen/ates/analytics/v1/analytics_service_pb";
import { SchedulerService } from "../gen/ates/scheduler/v1/scheduler_service_pb";

/** Fired on window when any call answers unauthenticated: the session is gone. */
export const kSessionEndedEvent = "ates:session-ended";

const reportSessionEnd: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    const isLogin = req.method.name === "Login";
    if (!isLogin && ConnectError.from(err).code === Code.Unauthenticated) {
      window.dispatchEvent(new Event(kSessionEndedEvent));
    }
    throw err;
  }
};

const transport = createConnectTransport({
  baseUrl: window.location.origin,
  useBinaryFormat: false,
  interceptors: [reportSessionEnd],
});

export const authClient = createClient(AuthService, transport);
export const taskClient = createClient(TaskService, transport);
export const billingClient = createClient(BillingService, transport);
export const analyticsClient = createClient(AnalyticsService, transport);
export const schedulerClient = createClient(SchedulerService, transport);
