/**
 * Accepts WorkOS AuthKit access tokens (both WorkOS issuers). Set
 * `WORKOS_CLIENT_ID` on the deployment before the first push. The stats
 * module adds nothing here (docs/adopting.md, step 4).
 */
import type { AuthConfig } from "convex/server";
import { env } from "./_generated/server";

const clientId = env.WORKOS_CLIENT_ID;

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
