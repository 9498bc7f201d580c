/**
 * Accepts WorkOS AuthKit access tokens. WorkOS signs them with two issuers
 * (SSO and User Management), hence two providers sharing one JWKS. Set
 * `WORKOS_CLIENT_ID` on the deployment: `npx convex env set WORKOS_CLIENT_ID client_...`.
 *
 * The token's `org_id` and `permissions` claims reach functions as
 * `identity.org_id` / `identity.permissions` (see `lib/auth.ts`).
 */
import type { AuthConfig } from "convex/server";
import { readEnv } from "./lib/env";

const clientId = readEnv("WORKOS_CLIENT_ID") ?? undefined;

export default {
  providers: [
    {
      type: "customJwt",
      issuer: "https://api.workos.com/",
      algorithm: "RS256",
      applicationID: clientId,
      jwks: `https://api.workos.com/sso/jwks/${clientId}`,
    },
    {
      type: "customJwt",
      issuer: `https://api.workos.com/user_management/${clientId}`,
      algorithm: "RS256",
      jwks: `https://api.workos.com/sso/jwks/${clientId}`,
    },
  ],
} satisfies AuthConfig;
