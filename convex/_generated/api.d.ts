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
import type * as lib_auth from "../lib/auth.js";
import type * as lib_counters from "../lib/counters.js";
import type * as lib_errors from "../lib/errors.js";
import type * as loads from "../loads.js";
import type * as migrations_initializeOrgStats from "../migrations/initializeOrgStats.js";
import type * as model_counts from "../model/counts.js";
import type * as model_enums from "../model/enums.js";
import type * as model_invoices from "../model/invoices.js";
import type * as model_loads from "../model/loads.js";
import type * as model_orgWalk from "../model/orgWalk.js";
import type * as model_recount from "../model/recount.js";
import type * as model_recountScan from "../model/recountScan.js";
import type * as model_recountStart from "../model/recountStart.js";
import type * as model_validate from "../model/validate.js";
import type * as model_writer from "../model/writer.js";
import type * as stats from "../stats.js";
import type * as stats_helpers from "../stats_helpers.js";

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
  "lib/auth": typeof lib_auth;
  "lib/counters": typeof lib_counters;
  "lib/errors": typeof lib_errors;
  loads: typeof loads;
  "migrations/initializeOrgStats": typeof migrations_initializeOrgStats;
  "model/counts": typeof model_counts;
  "model/enums": typeof model_enums;
  "model/invoices": typeof model_invoices;
  "model/loads": typeof model_loads;
  "model/orgWalk": typeof model_orgWalk;
  "model/recount": typeof model_recount;
  "model/recountScan": typeof model_recountScan;
  "model/recountStart": typeof model_recountStart;
  "model/validate": typeof model_validate;
  "model/writer": typeof model_writer;
  stats: typeof stats;
  stats_helpers: typeof stats_helpers;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
