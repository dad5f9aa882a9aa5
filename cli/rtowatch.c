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
#include <unistd.h>

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
	  "[--kind outage|warning|manual|drill] [--major] [--overdue]\n\t"
	  "[--bom|--no-bom]",
	  .side = CLI_DB, .exec = query_incidents,
	  .opts = O(FORMAT) | O(FROM) | O(TO) | O(LEVEL) | O(SYSTEM) |
	  O(STATUS) | O(KIND) | O(MAJOR) | O(OVERDUE) | CLI_O_BOMS,
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
	  "[--lang zh-TW|en] [--bom|--no-bom] [RECURRING]",
	  .side = CLI_DB, .exec = register_exec,
	  .opts = O(FORMAT) | O(FROM) | O(TO) | O(SYSTEM) | O(KIND) |
	  O(LANG) | CLI_O_RECUR | CLI_O_BOMS,
	  .formats = FMT(TABLE) | FMT(CSV) | FMT(HTML) },
	{ .name = "digest", .usage = "[--month YYYY-MM] [--format text|html] "
	  "[--lang zh-TW|en]\n\t[--include-drills]",
	  .side = CLI_DB, .exec = register_digest,
	  .opts = O(FORMAT) | O(MONTH) | O(LANG) | O(INCLUDE_DRILLS),
	  .formats = FMT(TEXT) | FMT(HTML) },
	{ .name = "availability", .usage = "--from DATE [--to DATE] "
	  "[--system S]\n\t[--format table|csv|html] [--lang zh-TW|en] "
	  "[--bom|--no-bom]",
	  .side = CLI_DB, .exec = avail_exec,
	  .opts = O(FORMAT) | O(FROM) | O(TO) | O(SYSTEM) | O(LANG) |
	  CLI_O_BOMS,
	  .formats = FMT(TABLE) | FMT(CSV) | FMT(HTML) },
	{ .name = "history", .usage = "SYSTEM [--check NAME] [--from T] "
	  "[--to T]\n\t[--format text|json|csv] [--bom|--no-bom]",
	  .side = CLI_DB, .exec = history_exec,
	  .opts = O(FORMAT) | O(FROM) | O(TO) | O(CHECK) | CLI_O_BOMS,
	  .formats = FMT(TEXT) | FMT(JSON) | FMT(CSV),
	  .args = CLI_ARGS_SYSTEM },
	/* It takes --db after the command too. */
	{ .name = "warnings", .usage = "[--format table|csv|json] "
	  "[--state STATE] [--bom|--no-bom]", .side = CLI_DB,
	  .exec = warnings_exec,
	  .opts = O(FORMAT) | O(STATE) | O(DB) | CLI_O_BOMS,
	  .formats = FMT(TABLE) | FMT(CSV) | FMT(JSON) },
	{ .name = "verify", .usage = "[--head HASH]",
	  .side = CLI_DB, .exec = verify_exec, .opts = O(HEAD) },
	{ .name = "draft", .usage = "ID",
	  .side = CLI_DB, .exec = mail_draft, .args = CLI_ARGS_ID },
	{ .name = "outbox", .usage = "[--format table|json|csv] [--all] "
	  "[--bom|--no-bom]",
	  .side = CLI_DB, .exec = mail_outbox,
	  .opts = O(FORMAT) | O(ALL) | CLI_O_BOMS,
	  .formats = FMT(TABLE) | FMT(JSON) | FMT(CSV) },
	{ .name = "backup", .usage = "FILE [--force]",
	  .side = CLI_DB, .exec = backup_exec, .opts = O(FORCE),
	  .args = CLI_ARGS_FILE },

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
	    "[--reason TEXT]\n  maintenance list\n"
	    "  maintenance cancel ID [--reason TEXT]", ctl_maintenance),
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

/*
 * rtowatch --complete [COMMAND [--OPTION]], for the shell completions
 * (completion/): the commands; a command's words (its actions, such as
 * maintenance's add, list and cancel) and options; an option's values.
 * All read from the usage lines above, so the completions follow the
 * table.  Not in --help: it is for scripts.
 */
static void
cli_complete_word(const char *p, size_t n)
{
	printf("%.*s\n", (int)n, p);
}

/* The lowercase words of "a|b|c" at P, up to a space or bracket. */
static void
cli_complete_alternatives(const char *p)
{
	size_t	 n;

	for (; *p != '\0' && strchr(" ]\n\t", *p) == NULL; p += n) {
		n = strcspn(p, "| ]\n\t");
		/* Lowercase: a keyword, not a placeholder such as ID. */
		if (n > 0 && strspn(p, "abcdefghijklmnopqrstuvwxyz-") >= n)
			cli_complete_word(p, n);
		if (p[n] == '|')
			n++;
	}
}

static int
cli_complete(int argc, char **argv)
{
	const struct cli_cmd	*cmd = NULL;
	const char		*p, *line;
	size_t			 i, len;

	if (argc == 0) {
		for (i = 0; i < CLI_NITEMS(cli_cmds); i++)
			printf("%s\n", cli_cmds[i].name);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < CLI_NITEMS(cli_cmds); i++)
		if (strcmp(argv[0], cli_cmds[i].name) == 0)
			cmd = &cli_cmds[i];
	if (cmd == NULL)
		return CLI_EXIT_ERR;
	if (argc >= 2) {
		/* "--format table|json|csv": the values after the option. */
		len = strlen(argv[1]);
		for (p = cmd->usage; (p = strstr(p, argv[1])) != NULL;
		    p += len)
			if (p[len] == ' ' && (p == cmd->usage ||
			    strchr("[ \t", p[-1]) != NULL)) {
				cli_complete_alternatives(p + len + 1);
				break;
			}
		if (strstr(cmd->usage, "RECURRING") != NULL &&
		    strcmp(argv[1], "--recur-by") == 0)
			cli_complete_alternatives("any|category");
		return CLI_EXIT_OK;
	}
	/*
	 * Its actions: the first word of the usage and of each line that
	 * names the command again ("maintenance list"), as in
	 * "confirm|dismiss|undetermined".
	 */
	len = strlen(cmd->name);
	for (line = cmd->usage; line != NULL; line = p != NULL ? p + 1 :
	    NULL) {
		p = strchr(line, '\n');
		line += strspn(line, " \t");
		if (line != cmd->usage) {
			if (strncmp(line, cmd->name, len) != 0 ||
			    line[len] != ' ')
				continue;
			line += len + 1;
		}
		cli_complete_alternatives(line);
	}
	for (p = cmd->usage; (p = strstr(p, "--")) != NULL; p += len) {
		len = strcspn(p, " ]|\n\t");
		cli_complete_word(p, len);
	}
	if (strstr(cmd->usage, "RECURRING") != NULL)
		printf("--recur-count\n--recur-window\n--recur-by\n");
	printf("--help\n");
	return CLI_EXIT_OK;
}

/*
 * In the source tree, after make run: the installed default (DFLT) does
 * not exist, but the tree's own file (TREE, relative, as rules/local.conf
 * names it) does.  A host where rtowatch is installed has its defaults,
 * and keeps them.
 */
static const char *
cli_tree_default(const char *dflt, const char *tree)
{
	if (access(dflt, F_OK) == -1 && errno == ENOENT &&
	    access("rules/local.conf", F_OK) == 0 && access(tree, F_OK) == 0)
		return tree;
	return dflt;
}

/*
 * COMMAND ... --help (or -h): its usage.  Not after "--", nor as the
 * value of an option ("--note --help" is a note).
 */
static int
cli_wants_help(int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if ((strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) &&
		    strncmp(argv[i - 1], "--", 2) != 0)
			return 1;
	}
	return 0;
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
		{ "complete", no_argument, NULL, 'C' },
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
	ctx.db_path = s != NULL && *s != '\0' ? s :
	    cli_tree_default(RTOWATCH_DB_DEFAULT, "var/rtowatch.db");
	s = getenv("RTOWATCH_TZ");
	ctx.tz = s != NULL && *s != '\0' ? s : CLI_TZ_DEFAULT;
	s = getenv("RTOWATCH_SOCKET");
	ctx.socket = s != NULL && *s != '\0' ? s :
	    cli_tree_default(RTOWATCH_SOCKET_DEFAULT, "var/control.sock");

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
			    "  (in the source tree, when those do not exist: "
			    "var/control.sock, var/rtowatch.db)\n"
			    "--tz defaults to $RTOWATCH_TZ, else %s; JSON and "
			    "CSV times are UTC\n", RTOWATCH_DB_DEFAULT,
			    CLI_TZ_DEFAULT);
			return CLI_EXIT_OK;
		case 'V':
			printf("rtowatch %s\n", RTOWATCH_VERSION);
			return CLI_EXIT_OK;
		case 'C':
			return cli_complete(argc - optind, argv + optind);
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
	if (cli_wants_help(argc - optind, argv + optind)) {
		cli_usage(stdout, ctx.cmd);
		return CLI_EXIT_OK;
	}
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
