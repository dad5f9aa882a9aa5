/*
 * rtowatch.c: the operators' and auditors' tool: main() and the table of
 * commands.  Each command lives in its own file (see cli.h).
 *
 * The read commands open the daemon's database directly and only ever
 * read-only (a URI with mode=ro), so an auditor can run them against a
 * live file or a copy without changing a byte.  JSON and CSV carry the
 * stored UTC times as they are; tables and forms display them in --tz.
 */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rtowatch.h"
#include "ctl.h"
#include "warnings.h"

static int
cli_warnings(struct cli_ctx *ctx, int argc, char **argv)
{
	return warnings_main(ctx->db_path, ctx->tz, argc, argv);
}

static const struct cli_cmd cli_cmds[] = {
	{ .name = "incidents", .usage = "[--format table|json|csv] "
	  "[--from DATE] [--to DATE]\n\t[--level N] [--system S] "
	  "[--status open|restored|closed]\n\t"
	  "[--kind outage|warning|manual|drill] [--major] [--overdue]",
	  .exec = query_incidents },
	{ .name = "show", .usage = "ID [--format text|json] [RECURRING]",
	  .exec = query_show },
	{ .name = "report", .usage = "ID [--format text|md|html] "
	  "[--lang zh-TW|en] [RECURRING]", .exec = report_exec },
	{ .name = "register", .usage = "[--from DATE] [--to DATE] "
	  "[--system S] [--kind K]\n\t[--format table|csv|html] "
	  "[--lang zh-TW|en] [RECURRING]", .exec = register_exec },
	{ .name = "digest", .usage = "--month YYYY-MM [--format text|html] "
	  "[--lang zh-TW|en]\n\t[--include-drills]",
	  .exec = register_digest },
	{ .name = "availability", .usage = "--from DATE --to DATE "
	  "[--system S] [--format table|csv]", .exec = avail_exec },
	{ .name = "warnings", .usage = "[--format table|csv|json] "
	  "[--state STATE]", .exec = cli_warnings },
	{ .name = "verify", .usage = "[--head HASH]", .exec = verify_exec },
};

/* One command's usage; a tab in it starts a continuation line. */
static void
cli_usage_cmd(FILE *f, const char *lead, const struct cli_cmd *cmd)
{
	const char	*p;

	fprintf(f, "%s%s ", lead, cmd->name);
	for (p = cmd->usage; *p != '\0'; p++) {
		if (*p == '\t')
			fprintf(f, "%*s", strlen(lead) > 4 ? 8 : 6, "");
		else
			fputc(*p, f);
	}
	fputc('\n', f);
}

/* Every command's usage, or only one command's. */
void
cli_usage(FILE *f, const struct cli_cmd *only)
{
	size_t	 i;

	if (only != NULL)
		cli_usage_cmd(f, "usage: rtowatch [--db FILE] [--tz ZONE] ",
		    only);
	else {
		fprintf(f, "usage: rtowatch [--db FILE] [--tz ZONE] COMMAND "
		    "...\n       rtowatch --help | --version\ncommands:\n");
		for (i = 0; i < CLI_NITEMS(cli_cmds); i++)
			cli_usage_cmd(f, "  ", &cli_cmds[i]);
		fprintf(f, "workflow, through the daemon's control socket "
		    "(rtowatch [--socket PATH] COMMAND):\n");
		ctl_usage(f);
	}
	if (only == NULL || strstr(only->usage, "RECURRING") != NULL)
		fprintf(f, "RECURRING: [--recur-count N] [--recur-window 90d] "
		    "[--recur-by any|category]\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "tz", required_argument, NULL, 'z' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_ctx	 ctx;
	const char	*s, *socket_path;
	char		 buf[8];
	size_t		 i;
	int		 ch, rc;

	setlocale(LC_CTYPE, "");
	memset(&ctx, 0, sizeof(ctx));
	ctx.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	s = getenv("RTOWATCH_DB");
	ctx.db_path = s != NULL && *s != '\0' ? s : RTOWATCH_DB_DEFAULT;
	s = getenv("RTOWATCH_TZ");
	ctx.tz = s != NULL && *s != '\0' ? s : CLI_TZ_DEFAULT;
	s = getenv("RTOWATCH_SOCKET");
	socket_path = s != NULL && *s != '\0' ? s : RTOWATCH_SOCKET_DEFAULT;

	/* Ours to report; '+' stops at the command, whose options follow. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			ctx.db_path = optarg;
			break;
		case 'z':
			ctx.tz = optarg;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'h':
			cli_usage(stdout, NULL);
			printf("\n--socket defaults to $RTOWATCH_SOCKET, "
			    "else %s\n", RTOWATCH_SOCKET_DEFAULT);
			printf("--db defaults to $RTOWATCH_DB, else %s\n"
			    "--tz defaults to $RTOWATCH_TZ, else %s; JSON and "
			    "CSV times are UTC\n", RTOWATCH_DB_DEFAULT,
			    CLI_TZ_DEFAULT);
			return CLI_EXIT_OK;
		case 'V':
			printf("rtowatch %s\n", RTOWATCH_VERSION);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(NULL, "option %s needs an "
			    "argument", argv[optind - 1]);
		default:
			if (optopt == 0)
				s = argv[optind - 1];
			else {
				snprintf(buf, sizeof(buf), "-%c", optopt);
				s = buf;
			}
			return cli_usage_error(NULL, "unknown option %s", s);
		}
	}
	if (optind == argc)
		return cli_usage_error(NULL, "no command");
	/* The workflow goes through the daemon, the only writer. */
	if (ctl_is_verb(argv[optind]))
		return ctl_main(socket_path, ctx.tz, argc - optind,
		    argv + optind);
	for (i = 0; i < CLI_NITEMS(cli_cmds); i++) {
		if (strcmp(argv[optind], cli_cmds[i].name) == 0)
			break;
	}
	if (i == CLI_NITEMS(cli_cmds))
		return cli_usage_error(NULL, "unknown command %s",
		    argv[optind]);
	ctx.cmd = &cli_cmds[i];

	rc = ctx.cmd->exec(&ctx, argc - optind, argv + optind);
	cli_end(&ctx);
	sqlite3_close(ctx.db);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cli_warnx("stdout: %s", strerror(errno));
		return CLI_EXIT_ERR;
	}
	return rc;
}
