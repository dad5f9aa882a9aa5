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

#define O(o)		CLI_O(CLI_O_ ## o)
#define FMT(f)		CLI_FMT(CLI_FMT_ ## f)
/* A workflow verb: it parses its own options (ctl.c). */
#define CLI_VERB(n, u, f) \
	{ .name = (n), .usage = (u), .side = CLI_SOCKET, .exec = (f) }

/*
 * Every command, those that read the database first, then the workflow
 * verbs that go through the daemon's socket; --help lists them in this
 * order and a usage error prints the command's line from here.  A
 * reader's options, formats and operands are checked from here too, so
 * keep them beside the usage line that names them.  The socket verbs'
 * usage lines break with "\n" and their own indent.
 */
static const struct cli_cmd cli_cmds[] = {
	{ .name = "incidents", .usage = "[--format table|json|csv] "
	  "[--from DATE] [--to DATE]\n\t[--level N] [--system S] "
	  "[--status open|restored|closed]\n\t"
	  "[--kind outage|warning|manual|drill] [--major] [--overdue]",
	  .side = CLI_DB, .exec = query_incidents,
	  .opts = O(FORMAT) | O(FROM) | O(TO) | O(LEVEL) | O(SYSTEM) |
	  O(STATUS) | O(KIND) | O(MAJOR) | O(OVERDUE),
	  .formats = FMT(TABLE) | FMT(JSON) | FMT(CSV) },
	{ .name = "show", .usage = "ID [--format text|json] [RECURRING]",
	  .side = CLI_DB, .exec = query_show,
	  .opts = O(FORMAT) | CLI_O_RECUR, .formats = FMT(TEXT) | FMT(JSON),
	  .args = CLI_ARGS_ID },
	{ .name = "report", .usage = "ID [--format text|md|html] "
	  "[--lang zh-TW|en] [RECURRING]",
	  .side = CLI_DB, .exec = report_exec,
	  .opts = O(FORMAT) | O(LANG) | CLI_O_RECUR,
	  .formats = FMT(TEXT) | FMT(MD) | FMT(HTML), .args = CLI_ARGS_ID },
	{ .name = "register", .usage = "[--from DATE] [--to DATE] "
	  "[--system S] [--kind K]\n\t[--format table|csv|html] "
	  "[--lang zh-TW|en] [RECURRING]",
	  .side = CLI_DB, .exec = register_exec,
	  .opts = O(FORMAT) | O(FROM) | O(TO) | O(SYSTEM) | O(KIND) |
	  O(LANG) | CLI_O_RECUR,
	  .formats = FMT(TABLE) | FMT(CSV) | FMT(HTML) },
	{ .name = "digest", .usage = "--month YYYY-MM [--format text|html] "
	  "[--lang zh-TW|en]\n\t[--include-drills]",
	  .side = CLI_DB, .exec = register_digest,
	  .opts = O(FORMAT) | O(MONTH) | O(LANG) | O(INCLUDE_DRILLS),
	  .formats = FMT(TEXT) | FMT(HTML) },
	{ .name = "availability", .usage = "--from DATE --to DATE "
	  "[--system S] [--format table|csv]",
	  .side = CLI_DB, .exec = avail_exec,
	  .opts = O(FORMAT) | O(FROM) | O(TO) | O(SYSTEM),
	  .formats = FMT(TABLE) | FMT(CSV) },
	/* It takes --db after the command too. */
	{ .name = "warnings", .usage = "[--format table|csv|json] "
	  "[--state STATE]", .side = CLI_DB, .exec = warnings_exec,
	  .opts = O(FORMAT) | O(STATE) | O(DB),
	  .formats = FMT(TABLE) | FMT(CSV) | FMT(JSON) },
	{ .name = "verify", .usage = "[--head HASH]",
	  .side = CLI_DB, .exec = verify_exec, .opts = O(HEAD) },

	CLI_VERB("status", "", ctl_status),
	CLI_VERB("ack", "ID [--note TEXT]", ctl_step),
	CLI_VERB("reported", "ID --ticket NUMBER [--at TIME] [--reason TEXT] "
	    "[--note TEXT]", ctl_step),
	CLI_VERB("set", "ID FIELD VALUE", ctl_set),
	CLI_VERB("edit", "ID", ctl_edit),
	CLI_VERB("level", "ID [--confidentiality N] [--integrity N] "
	    "--reason TEXT", ctl_level),
	CLI_VERB("controlled", "ID [--note TEXT]", ctl_step),
	CLI_VERB("restored", "ID [--at TIME] [--note TEXT]",
	    ctl_step),
	CLI_VERB("report-filed", "ID [--note TEXT]", ctl_step),
	CLI_VERB("close", "ID [--note TEXT]", ctl_step),
	CLI_VERB("portal-closed", "ID --result TEXT [--at TIME] [--note TEXT]",
	    ctl_step),
	CLI_VERB("major", "ID --reason TEXT", ctl_step),
	CLI_VERB("contact", "ID --to WHO --by phone|fax|in-person|email "
	    "[--at TIME]\n      [--note TEXT] [--offline]", ctl_step),
	CLI_VERB("warning", "open --source SOURCE --summary TEXT\n"
	    "      [--reference REF] [--system NAME]\n      [--detail TEXT]\n"
	    "  warning confirm|dismiss|undetermined ID [--reason TEXT] "
	    "[--level N]", ctl_warning),
	CLI_VERB("maintenance", "add SYSTEM --for DURATION [--from TIME] "
	    "[--reason TEXT]", ctl_maintenance),
	CLI_VERB("open", "--system NAME|--title TEXT --level N --reason TEXT\n"
	    "      [--at TIME]", ctl_open),
	CLI_VERB("drill", "[--system NAME|--title TEXT] [--level N]\n"
	    "      [--compressed FACTOR|--real] [--note TEXT]\n"
	    "  drill report|show ID", ctl_drill),
};

#undef O
#undef FMT

/* What a usage error puts before the command's line, by side. */
static const char *const cli_usage_lead[] = {
	[CLI_DB] = "usage: rtowatch [--db FILE] [--tz ZONE] ",
	[CLI_SOCKET] = "usage: rtowatch [--socket PATH] ",
};

/*
 * One command's usage: in a usage error (LINE) or in the list of
 * --help.  A tab in it starts a continuation line under the command.
 */
static void
cli_usage_cmd(FILE *f, const char *lead, const struct cli_cmd *cmd, int line)
{
	const char	*p;

	fprintf(f, "%s%s%s", lead, cmd->name,
	    line || *cmd->usage != '\0' ? " " : "");
	for (p = cmd->usage; *p != '\0'; p++) {
		if (*p == '\t')
			fprintf(f, "%*s", line ? 8 : 6, "");
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
		cli_usage_cmd(f, cli_usage_lead[only->side], only, 1);
	else {
		fprintf(f, "usage: rtowatch [--db FILE] [--tz ZONE] COMMAND "
		    "...\n       rtowatch --help | --version\ncommands:\n");
		for (i = 0; i < CLI_NITEMS(cli_cmds); i++)
			if (cli_cmds[i].side == CLI_DB)
				cli_usage_cmd(f, "  ", &cli_cmds[i], 0);
		fprintf(f, "workflow, through the daemon's control socket "
		    "(rtowatch [--socket PATH] COMMAND):\n");
		for (i = 0; i < CLI_NITEMS(cli_cmds); i++)
			if (cli_cmds[i].side == CLI_SOCKET)
				cli_usage_cmd(f, "  ", &cli_cmds[i], 0);
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
	const char	*s;
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
	ctx.socket = s != NULL && *s != '\0' ? s : RTOWATCH_SOCKET_DEFAULT;

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
			ctx.socket = optarg;
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
	for (i = 0; i < CLI_NITEMS(cli_cmds); i++) {
		if (strcmp(argv[optind], cli_cmds[i].name) == 0)
			break;
	}
	if (i == CLI_NITEMS(cli_cmds))
		return cli_usage_error(NULL, "unknown command %s",
		    argv[optind]);
	ctx.cmd = &cli_cmds[i];
	/* The workflow goes through the daemon, the only writer. */
	if (ctx.cmd->side == CLI_SOCKET)
		return ctl_main(&ctx, argc - optind, argv + optind);

	rc = ctx.cmd->exec(&ctx, argc - optind, argv + optind);
	cli_end(&ctx);
	sqlite3_close(ctx.db);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cli_warnx("stdout: %s", strerror(errno));
		return CLI_EXIT_ERR;
	}
	return rc;
}
