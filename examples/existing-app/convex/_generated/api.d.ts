/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as crons from "../crons.js";
import type * as functions from "../functions.js";
import type * as invoices from "../invoices.js";
import type * as lanes from "../lanes.js";
import type * as lib_auth from "../lib/auth.js";
import type * as lib_components from "../lib/components.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_rateLimits from "../lib/rateLimits.js";
import type * as loads from "../loads.js";
import type * as migrations_initializeOrgStats from "../migrations/initializeOrgStats.js";
import type * as migrations_legacyStats from "../migrations/legacyStats.js";
import type * as model_counted from "../model/counted.js";
import type * as model_enums from "../model/enums.js";
import type * as model_invoices from "../model/invoices.js";
import type * as model_legacyStats from "../model/legacyStats.js";
import type * as model_loads from "../model/loads.js";
import type * as model_statsConfig from "../model/statsConfig.js";
import type * as model_tables from "../model/tables.js";
import type * as stats from "../stats.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  crons: typeof crons;
  functions: typeof functions;
  invoices: typeof invoices;
  lanes: typeof lanes;
  "lib/auth": typeof lib_auth;
  "lib/components": typeof lib_components;
  "lib/errors": typeof lib_errors;
  "lib/rateLimits": typeof lib_rateLimits;
  loads: typeof loads;
  "migrations/initializeOrgStats": typeof migrations_initializeOrgStats;
  "migrations/legacyStats": typeof migrations_legacyStats;
  "model/counted": typeof model_counted;
  "model/enums": typeof model_enums;
  "model/invoices": typeof model_invoices;
  "model/legacyStats": typeof model_legacyStats;
  "model/loads": typeof model_loads;
  "model/statsConfig": typeof model_statsConfig;
  "model/tables": typeof model_tables;
  stats: typeof stats;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
