/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands of the capgate binary and the option-table helper they share. */
#ifndef CG_CMD_H
#define CG_CMD_H

#include <getopt.h>
#include <stddef.h>
#include <stdbool.h>

/*
 * Options that come before the subcommand: capgate [-j] [--api ADDR]
 * [--config FILE] [--token-file FILE] [-v] CMD ... Where the API is, when
 * neither --api nor --config says: cmd/capgate/call.c (docs/api.md).
 */
struct cg_global {
	const char *api;	/* --api: REST API address, or NULL */
	const char *config;	/* --config: the gateway config naming it (api, api_token_file) */
	const char *token_file; /* --token-file: the bearer token for a TCP API */
	bool json;		/* -j: listings as JSON */
	int verbose;		/* -v: more logging */
};

/*
 * An option table: help is generated from it. Each entry is one getopt_long
 * option with the text shown by --help.
 */
struct cg_opt {
	const char *name; /* long name */
	int val;	  /* short letter (or a value > 255 for long-only) */
	int has_arg;	  /* no_argument / required_argument */
	const char *arg;  /* argument name in help, e.g. "FILE" */
	const char *help;
};

/*
 * getopt_long over a table. Calls handle(val, optarg, ctx) for each option;
 * handle returns 0, or -1 for a bad value (after printing why). --help/-h
 * prints usage + the table and returns 1. Returns 0 (optind = first operand),
 * 1 after help, or 2 for a usage error.
 */
int opts_parse(int argc, char **argv, const char *usage, const struct cg_opt *opts, size_t n,
	       int (*handle)(int val, const char *arg, void *ctx), void *ctx);
void opts_usage(const char *usage, const struct cg_opt *opts, size_t n);

/* Each returns the process exit code: 0 ok, 1 failure, 2 usage. argv[0] is the subcommand. */
int cmd_gateway(int argc, char **argv, const struct cg_global *g);
int cmd_rule(int argc, char **argv, const struct cg_global *g);
int cmd_knock(int argc, char **argv, const struct cg_global *g);
int cmd_lb(int argc, char **argv, const struct cg_global *g);
int cmd_stats(int argc, char **argv, const struct cg_global *g);
int cmd_demo(int argc, char **argv, const struct cg_global *g);
int cmd_connect(int argc, char **argv, const struct cg_global *g);
int cmd_session(int argc, char **argv, const struct cg_global *g);
int cmd_device(int argc, char **argv, const struct cg_global *g);
int cmd_dpi(int argc, char **argv, const struct cg_global *g);
int cmd_ca(int argc, char **argv, const struct cg_global *g);
int cmd_token(int argc, char **argv, const struct cg_global *g);
int cmd_enroll(int argc, char **argv, const struct cg_global *g);

#endif
