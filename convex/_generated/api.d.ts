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
import type * as lib_components from "../lib/components.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_workos from "../lib/workos.js";
import type * as loads from "../loads.js";
import type * as migrations_initializeOrgStats from "../migrations/initializeOrgStats.js";
import type * as model_ctx from "../model/ctx.js";
import type * as model_enums from "../model/enums.js";
import type * as model_fourKites_import from "../model/fourKites/import.js";
import type * as model_fourKites_shipment from "../model/fourKites/shipment.js";
import type * as model_invoices_rules from "../model/invoices/rules.js";
import type * as model_lanes_backfill from "../model/lanes/backfill.js";
import type * as model_lanes_rules from "../model/lanes/rules.js";
import type * as model_loads_expiry from "../model/loads/expiry.js";
import type * as model_loads_intake from "../model/loads/intake.js";
import type * as model_loads_rules from "../model/loads/rules.js";
import type * as model_organizations_registry from "../model/organizations/registry.js";
import type * as model_organizations_webhook from "../model/organizations/webhook.js";
import type * as model_organizations_workosSync from "../model/organizations/workosSync.js";
import type * as model_stats_counters from "../model/stats/counters.js";
import type * as model_stats_drift from "../model/stats/drift.js";
import type * as model_stats_engine from "../model/stats/engine.js";
import type * as model_stats_entities from "../model/stats/entities.js";
import type * as model_stats_read from "../model/stats/read.js";
import type * as model_stats_recount_orgWalk from "../model/stats/recount/orgWalk.js";
import type * as model_stats_recount_pages from "../model/stats/recount/pages.js";
import type * as model_stats_recount_start from "../model/stats/recount/start.js";
import type * as model_stats_rows from "../model/stats/rows.js";
import type * as model_stats_scan from "../model/stats/scan.js";
import type * as model_stats_shadow from "../model/stats/shadow.js";
import type * as model_stats_status from "../model/stats/status.js";
import type * as model_stats_tables from "../model/stats/tables.js";
import type * as model_stats_writer from "../model/stats/writer.js";
import type * as model_validate from "../model/validate.js";
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
  "lib/components": typeof lib_components;
  "lib/errors": typeof lib_errors;
  "lib/workos": typeof lib_workos;
  loads: typeof loads;
  "migrations/initializeOrgStats": typeof migrations_initializeOrgStats;
  "model/ctx": typeof model_ctx;
  "model/enums": typeof model_enums;
  "model/fourKites/import": typeof model_fourKites_import;
  "model/fourKites/shipment": typeof model_fourKites_shipment;
  "model/invoices/rules": typeof model_invoices_rules;
  "model/lanes/backfill": typeof model_lanes_backfill;
  "model/lanes/rules": typeof model_lanes_rules;
  "model/loads/expiry": typeof model_loads_expiry;
  "model/loads/intake": typeof model_loads_intake;
  "model/loads/rules": typeof model_loads_rules;
  "model/organizations/registry": typeof model_organizations_registry;
  "model/organizations/webhook": typeof model_organizations_webhook;
  "model/organizations/workosSync": typeof model_organizations_workosSync;
  "model/stats/counters": typeof model_stats_counters;
  "model/stats/drift": typeof model_stats_drift;
  "model/stats/engine": typeof model_stats_engine;
  "model/stats/entities": typeof model_stats_entities;
  "model/stats/read": typeof model_stats_read;
  "model/stats/recount/orgWalk": typeof model_stats_recount_orgWalk;
  "model/stats/recount/pages": typeof model_stats_recount_pages;
  "model/stats/recount/start": typeof model_stats_recount_start;
  "model/stats/rows": typeof model_stats_rows;
  "model/stats/scan": typeof model_stats_scan;
  "model/stats/shadow": typeof model_stats_shadow;
  "model/stats/status": typeof model_stats_status;
  "model/stats/tables": typeof model_stats_tables;
  "model/stats/writer": typeof model_stats_writer;
  "model/validate": typeof model_validate;
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
