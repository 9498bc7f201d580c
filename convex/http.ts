/**
 * HTTP routes of the deployment (`https://<deployment>.convex.site`).
 *
 * `POST /workos/webhook`: WorkOS events. Register this URL as a webhook
 * endpoint in the WorkOS dashboard (organization events) and set its signing
 * secret: `npx convex env set WORKOS_WEBHOOK_SECRET ...`. See
 * `model/organizations/webhook.ts` for what it answers.
 */
import { httpRouter } from "convex/server";
import { httpAction } from "./functions";
import { readEnv } from "./lib/env";
import { WORKOS_WEBHOOK_PATH_ENV, workosWebhookPath } from "./model/organizations/lifecycle";
import { receiveWorkOSWebhook } from "./model/organizations/webhook";

const http = httpRouter();

// `WORKOS_WEBHOOK_PATH` moves the route (or `off` drops it), e.g. when the
// authkit component already serves /workos/webhook: docs/operations.md.
const workosPath = workosWebhookPath(readEnv(WORKOS_WEBHOOK_PATH_ENV) ?? undefined);
if (workosPath !== null) {
  http.route({
    path: workosPath,
    method: "POST",
    handler: httpAction(async (ctx, request) => await receiveWorkOSWebhook(ctx, request)),
  });
}

export default http;
