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
import type * as alerts from "../alerts.js";
import type * as crons from "../crons.js";
import type * as fourKitesIntegrations from "../fourKitesIntegrations.js";
import type * as fourKitesSync from "../fourKitesSync.js";
import type * as fourKitesSyncHelpers from "../fourKitesSyncHelpers.js";
import type * as functions from "../functions.js";
import type * as http from "../http.js";
import type * as invoices from "../invoices.js";
import type * as lanes from "../lanes.js";
import type * as lazyLoadPromotion from "../lazyLoadPromotion.js";
import type * as lib_auth from "../lib/auth.js";
import type * as lib_clock from "../lib/clock.js";
import type * as lib_components from "../lib/components.js";
import type * as lib_contention from "../lib/contention.js";
import type * as lib_env from "../lib/env.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_workos from "../lib/workos.js";
import type * as loads from "../loads.js";
import type * as migrations_initializeOrgStats from "../migrations/initializeOrgStats.js";
import type * as model_alerts_deliver from "../model/alerts/deliver.js";
import type * as model_alerts_fields from "../model/alerts/fields.js";
import type * as model_alerts_payload from "../model/alerts/payload.js";
import type * as model_alerts_queue from "../model/alerts/queue.js";
import type * as model_alerts_status from "../model/alerts/status.js";
import type * as model_counted from "../model/counted.js";
import type * as model_ctx from "../model/ctx.js";
import type * as model_enums from "../model/enums.js";
import type * as model_fields from "../model/fields.js";
import type * as model_fourKites_client from "../model/fourKites/client.js";
import type * as model_fourKites_credentials from "../model/fourKites/credentials.js";
import type * as model_fourKites_fields from "../model/fourKites/fields.js";
import type * as model_fourKites_import from "../model/fourKites/import.js";
import type * as model_fourKites_integrations from "../model/fourKites/integrations.js";
import type * as model_fourKites_manage from "../model/fourKites/manage.js";
import type * as model_fourKites_pass from "../model/fourKites/pass.js";
import type * as model_fourKites_settings from "../model/fourKites/settings.js";
import type * as model_fourKites_shipment from "../model/fourKites/shipment.js";
import type * as model_fourKites_storedValues from "../model/fourKites/storedValues.js";
import type * as model_fourKites_sync from "../model/fourKites/sync.js";
import type * as model_fourKites_syncRun from "../model/fourKites/syncRun.js";
import type * as model_fourKites_unreadFields from "../model/fourKites/unreadFields.js";
import type * as model_invoices_rules from "../model/invoices/rules.js";
import type * as model_lanes_backfill from "../model/lanes/backfill.js";
import type * as model_lanes_ends from "../model/lanes/ends.js";
import type * as model_lanes_promotion from "../model/lanes/promotion.js";
import type * as model_lanes_rules from "../model/lanes/rules.js";
import type * as model_lanes_stored from "../model/lanes/stored.js";
import type * as model_loads_cleanup from "../model/loads/cleanup.js";
import type * as model_loads_expiry from "../model/loads/expiry.js";
import type * as model_loads_filters from "../model/loads/filters.js";
import type * as model_loads_intake from "../model/loads/intake.js";
import type * as model_loads_rules from "../model/loads/rules.js";
import type * as model_loads_stored from "../model/loads/stored.js";
import type * as model_organizations_deleted from "../model/organizations/deleted.js";
import type * as model_organizations_lifecycle from "../model/organizations/lifecycle.js";
import type * as model_organizations_registry from "../model/organizations/registry.js";
import type * as model_organizations_webhook from "../model/organizations/webhook.js";
import type * as model_organizations_workosSync from "../model/organizations/workosSync.js";
import type * as model_retention_purge from "../model/retention/purge.js";
import type * as model_retention_windows from "../model/retention/windows.js";
import type * as model_stats_amounts from "../model/stats/amounts.js";
import type * as model_stats_api from "../model/stats/api.js";
import type * as model_stats_checks from "../model/stats/checks.js";
import type * as model_stats_config from "../model/stats/config.js";
import type * as model_stats_counters from "../model/stats/counters.js";
import type * as model_stats_ctx from "../model/stats/ctx.js";
import type * as model_stats_declare from "../model/stats/declare.js";
import type * as model_stats_drift from "../model/stats/drift.js";
import type * as model_stats_engine from "../model/stats/engine.js";
import type * as model_stats_entities from "../model/stats/entities.js";
import type * as model_stats_facets_dates from "../model/stats/facets/dates.js";
import type * as model_stats_facets_keys from "../model/stats/facets/keys.js";
import type * as model_stats_facets_query from "../model/stats/facets/query.js";
import type * as model_stats_facets_store from "../model/stats/facets/store.js";
import type * as model_stats_ids from "../model/stats/ids.js";
import type * as model_stats_invalid from "../model/stats/invalid.js";
import type * as model_stats_perEntity from "../model/stats/perEntity.js";
import type * as model_stats_read from "../model/stats/read.js";
import type * as model_stats_recount_cancel from "../model/stats/recount/cancel.js";
import type * as model_stats_recount_completion from "../model/stats/recount/completion.js";
import type * as model_stats_recount_enqueue from "../model/stats/recount/enqueue.js";
import type * as model_stats_recount_facetMerge from "../model/stats/recount/facetMerge.js";
import type * as model_stats_recount_faults from "../model/stats/recount/faults.js";
import type * as model_stats_recount_jobWalk from "../model/stats/recount/jobWalk.js";
import type * as model_stats_recount_jobs from "../model/stats/recount/jobs.js";
import type * as model_stats_recount_marks from "../model/stats/recount/marks.js";
import type * as model_stats_recount_orgWalk from "../model/stats/recount/orgWalk.js";
import type * as model_stats_recount_pages from "../model/stats/recount/pages.js";
import type * as model_stats_recount_start from "../model/stats/recount/start.js";
import type * as model_stats_recount_state from "../model/stats/recount/state.js";
import type * as model_stats_recount_summaries from "../model/stats/recount/summaries.js";
import type * as model_stats_rows from "../model/stats/rows.js";
import type * as model_stats_scan from "../model/stats/scan.js";
import type * as model_stats_shadow from "../model/stats/shadow.js";
import type * as model_stats_status from "../model/stats/status.js";
import type * as model_stats_tables from "../model/stats/tables.js";
import type * as model_stats_write_builders from "../model/stats/write/builders.js";
import type * as model_stats_write_db from "../model/stats/write/db.js";
import type * as model_stats_write_triggers from "../model/stats/write/triggers.js";
import type * as model_statsConfig from "../model/statsConfig.js";
import type * as model_uniqueness from "../model/uniqueness.js";
import type * as model_validate from "../model/validate.js";
import type * as organizations from "../organizations.js";
import type * as retention from "../retention.js";
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
  alerts: typeof alerts;
  crons: typeof crons;
  fourKitesIntegrations: typeof fourKitesIntegrations;
  fourKitesSync: typeof fourKitesSync;
  fourKitesSyncHelpers: typeof fourKitesSyncHelpers;
  functions: typeof functions;
  http: typeof http;
  invoices: typeof invoices;
  lanes: typeof lanes;
  lazyLoadPromotion: typeof lazyLoadPromotion;
  "lib/auth": typeof lib_auth;
  "lib/clock": typeof lib_clock;
  "lib/components": typeof lib_components;
  "lib/contention": typeof lib_contention;
  "lib/env": typeof lib_env;
  "lib/errors": typeof lib_errors;
  "lib/workos": typeof lib_workos;
  loads: typeof loads;
  "migrations/initializeOrgStats": typeof migrations_initializeOrgStats;
  "model/alerts/deliver": typeof model_alerts_deliver;
  "model/alerts/fields": typeof model_alerts_fields;
  "model/alerts/payload": typeof model_alerts_payload;
  "model/alerts/queue": typeof model_alerts_queue;
  "model/alerts/status": typeof model_alerts_status;
  "model/counted": typeof model_counted;
  "model/ctx": typeof model_ctx;
  "model/enums": typeof model_enums;
  "model/fields": typeof model_fields;
  "model/fourKites/client": typeof model_fourKites_client;
  "model/fourKites/credentials": typeof model_fourKites_credentials;
  "model/fourKites/fields": typeof model_fourKites_fields;
  "model/fourKites/import": typeof model_fourKites_import;
  "model/fourKites/integrations": typeof model_fourKites_integrations;
  "model/fourKites/manage": typeof model_fourKites_manage;
  "model/fourKites/pass": typeof model_fourKites_pass;
  "model/fourKites/settings": typeof model_fourKites_settings;
  "model/fourKites/shipment": typeof model_fourKites_shipment;
  "model/fourKites/storedValues": typeof model_fourKites_storedValues;
  "model/fourKites/sync": typeof model_fourKites_sync;
  "model/fourKites/syncRun": typeof model_fourKites_syncRun;
  "model/fourKites/unreadFields": typeof model_fourKites_unreadFields;
  "model/invoices/rules": typeof model_invoices_rules;
  "model/lanes/backfill": typeof model_lanes_backfill;
  "model/lanes/ends": typeof model_lanes_ends;
  "model/lanes/promotion": typeof model_lanes_promotion;
  "model/lanes/rules": typeof model_lanes_rules;
  "model/lanes/stored": typeof model_lanes_stored;
  "model/loads/cleanup": typeof model_loads_cleanup;
  "model/loads/expiry": typeof model_loads_expiry;
  "model/loads/filters": typeof model_loads_filters;
  "model/loads/intake": typeof model_loads_intake;
  "model/loads/rules": typeof model_loads_rules;
  "model/loads/stored": typeof model_loads_stored;
  "model/organizations/deleted": typeof model_organizations_deleted;
  "model/organizations/lifecycle": typeof model_organizations_lifecycle;
  "model/organizations/registry": typeof model_organizations_registry;
  "model/organizations/webhook": typeof model_organizations_webhook;
  "model/organizations/workosSync": typeof model_organizations_workosSync;
  "model/retention/purge": typeof model_retention_purge;
  "model/retention/windows": typeof model_retention_windows;
  "model/stats/amounts": typeof model_stats_amounts;
  "model/stats/api": typeof model_stats_api;
  "model/stats/checks": typeof model_stats_checks;
  "model/stats/config": typeof model_stats_config;
  "model/stats/counters": typeof model_stats_counters;
  "model/stats/ctx": typeof model_stats_ctx;
  "model/stats/declare": typeof model_stats_declare;
  "model/stats/drift": typeof model_stats_drift;
  "model/stats/engine": typeof model_stats_engine;
  "model/stats/entities": typeof model_stats_entities;
  "model/stats/facets/dates": typeof model_stats_facets_dates;
  "model/stats/facets/keys": typeof model_stats_facets_keys;
  "model/stats/facets/query": typeof model_stats_facets_query;
  "model/stats/facets/store": typeof model_stats_facets_store;
  "model/stats/ids": typeof model_stats_ids;
  "model/stats/invalid": typeof model_stats_invalid;
  "model/stats/perEntity": typeof model_stats_perEntity;
  "model/stats/read": typeof model_stats_read;
  "model/stats/recount/cancel": typeof model_stats_recount_cancel;
  "model/stats/recount/completion": typeof model_stats_recount_completion;
  "model/stats/recount/enqueue": typeof model_stats_recount_enqueue;
  "model/stats/recount/facetMerge": typeof model_stats_recount_facetMerge;
  "model/stats/recount/faults": typeof model_stats_recount_faults;
  "model/stats/recount/jobWalk": typeof model_stats_recount_jobWalk;
  "model/stats/recount/jobs": typeof model_stats_recount_jobs;
  "model/stats/recount/marks": typeof model_stats_recount_marks;
  "model/stats/recount/orgWalk": typeof model_stats_recount_orgWalk;
  "model/stats/recount/pages": typeof model_stats_recount_pages;
  "model/stats/recount/start": typeof model_stats_recount_start;
  "model/stats/recount/state": typeof model_stats_recount_state;
  "model/stats/recount/summaries": typeof model_stats_recount_summaries;
  "model/stats/rows": typeof model_stats_rows;
  "model/stats/scan": typeof model_stats_scan;
  "model/stats/shadow": typeof model_stats_shadow;
  "model/stats/status": typeof model_stats_status;
  "model/stats/tables": typeof model_stats_tables;
  "model/stats/write/builders": typeof model_stats_write_builders;
  "model/stats/write/db": typeof model_stats_write_db;
  "model/stats/write/triggers": typeof model_stats_write_triggers;
  "model/statsConfig": typeof model_statsConfig;
  "model/uniqueness": typeof model_uniqueness;
  "model/validate": typeof model_validate;
  organizations: typeof organizations;
  retention: typeof retention;
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
