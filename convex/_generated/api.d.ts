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
import type * as fourKitesSync from "../fourKitesSync.js";
import type * as fourKitesSyncHelpers from "../fourKitesSyncHelpers.js";
import type * as functions from "../functions.js";
import type * as http from "../http.js";
import type * as invoices from "../invoices.js";
import type * as lanes from "../lanes.js";
import type * as lazyLoadPromotion from "../lazyLoadPromotion.js";
import type * as lib_auth from "../lib/auth.js";
import type * as lib_counters from "../lib/counters.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_workos from "../lib/workos.js";
import type * as loads from "../loads.js";
import type * as migrations_initializeOrgStats from "../migrations/initializeOrgStats.js";
import type * as model_counts from "../model/counts.js";
import type * as model_enums from "../model/enums.js";
import type * as model_fourKites from "../model/fourKites.js";
import type * as model_invoices from "../model/invoices.js";
import type * as model_laneBackfill from "../model/laneBackfill.js";
import type * as model_lanes from "../model/lanes.js";
import type * as model_loadExpiry from "../model/loadExpiry.js";
import type * as model_loadIntake from "../model/loadIntake.js";
import type * as model_loads from "../model/loads.js";
import type * as model_orgWalk from "../model/orgWalk.js";
import type * as model_organizationSync from "../model/organizationSync.js";
import type * as model_organizations from "../model/organizations.js";
import type * as model_recount from "../model/recount.js";
import type * as model_recountScan from "../model/recountScan.js";
import type * as model_recountStart from "../model/recountStart.js";
import type * as model_shipmentImport from "../model/shipmentImport.js";
import type * as model_validate from "../model/validate.js";
import type * as model_workosWebhook from "../model/workosWebhook.js";
import type * as model_writer from "../model/writer.js";
import type * as organizations from "../organizations.js";
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
  fourKitesSync: typeof fourKitesSync;
  fourKitesSyncHelpers: typeof fourKitesSyncHelpers;
  functions: typeof functions;
  http: typeof http;
  invoices: typeof invoices;
  lanes: typeof lanes;
  lazyLoadPromotion: typeof lazyLoadPromotion;
  "lib/auth": typeof lib_auth;
  "lib/counters": typeof lib_counters;
  "lib/errors": typeof lib_errors;
  "lib/workos": typeof lib_workos;
  loads: typeof loads;
  "migrations/initializeOrgStats": typeof migrations_initializeOrgStats;
  "model/counts": typeof model_counts;
  "model/enums": typeof model_enums;
  "model/fourKites": typeof model_fourKites;
  "model/invoices": typeof model_invoices;
  "model/laneBackfill": typeof model_laneBackfill;
  "model/lanes": typeof model_lanes;
  "model/loadExpiry": typeof model_loadExpiry;
  "model/loadIntake": typeof model_loadIntake;
  "model/loads": typeof model_loads;
  "model/orgWalk": typeof model_orgWalk;
  "model/organizationSync": typeof model_organizationSync;
  "model/organizations": typeof model_organizations;
  "model/recount": typeof model_recount;
  "model/recountScan": typeof model_recountScan;
  "model/recountStart": typeof model_recountStart;
  "model/shipmentImport": typeof model_shipmentImport;
  "model/validate": typeof model_validate;
  "model/workosWebhook": typeof model_workosWebhook;
  "model/writer": typeof model_writer;
  organizations: typeof organizations;
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
