/*
 * mail.c: what the daemon wrote for people to send or paste, read from
 * the database like every read command: rtowatch draft ID, the portal
 * draft (通報內容草稿) to paste into the national notification portal,
 * and rtowatch outbox, each notice with its delivery state and tries.
 *
 * The daemon keeps no draft apart: notice.c writes it, filled from the
 * record as it then stood, at the end of each notice of the incident.
 * The newest notice's draft is the one to paste.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "util.h"

/* The line notice.c opens the draft with, in every notice's body. */
#define MAIL_DRAFT_MARK	"==== 通報內容草稿 Portal draft"

enum {
	MAIL_ID, MAIL_INCIDENT, MAIL_RECIPIENT, MAIL_EVENT, MAIL_STATE,
	MAIL_ATTEMPTS, MAIL_CREATED, MAIL_NEXT_TRY, MAIL_SENT, MAIL_ADDRESS,
	MAIL_LAST_ERROR, MAIL_COUNT
};

static const struct cli_field mail_fields[MAIL_COUNT] = {
	[MAIL_ID] = { "id", "id", CLI_INT },
	[MAIL_INCIDENT] = { "incident_id", "incident_id", CLI_INT },
	[MAIL_RECIPIENT] = { "recipient", "recipient", CLI_TEXT },
	[MAIL_EVENT] = { "event", "event", CLI_TEXT },
	[MAIL_STATE] = { "state", "state", CLI_TEXT },
	[MAIL_ATTEMPTS] = { "attempts", "attempts", CLI_INT },
	[MAIL_CREATED] = { "created_at", "created_at", CLI_TEXT },
	[MAIL_NEXT_TRY] = { "next_try_at", "next_try_at", CLI_TEXT },
	[MAIL_SENT] = { "sent_at", "sent_at", CLI_TEXT },
	[MAIL_ADDRESS] = { "address", "address", CLI_TEXT },
	[MAIL_LAST_ERROR] = { "last_error", "last_error", CLI_TEXT },
};

static const struct cli_column mail_cols[] = {
	CLI_COL("ID", MAIL_ID, CLI_SHOW_NUM),
	CLI_COL("INCIDENT", MAIL_INCIDENT, CLI_SHOW_NUM),
	CLI_COL("TO", MAIL_RECIPIENT, CLI_SHOW_TEXT),
	CLI_COL_DROP("EVENT", MAIL_EVENT, CLI_SHOW_TEXT, 2),
	CLI_COL("STATE", MAIL_STATE, CLI_SHOW_TEXT),
	CLI_COL("TRIES", MAIL_ATTEMPTS, CLI_SHOW_NUM),
	CLI_COL_DROP("QUEUED", MAIL_CREATED, CLI_SHOW_TIME, 1),
	CLI_COL("NEXT TRY", MAIL_NEXT_TRY, CLI_SHOW_TIME),
	CLI_COL("SENT", MAIL_SENT, CLI_SHOW_TIME),
	CLI_COL("LAST ERROR", MAIL_LAST_ERROR, CLI_SHOW_TEXT),
};

/* draft ID: the newest notice's portal draft, as it is to be pasted. */
int
mail_draft(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts	 o = { 0 };
	sqlite3_stmt	*stmt;
	const char	*body, *draft;
	int		 rc, found;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	if (cli_open(ctx) == -1 || cli_begin(ctx) == -1)
		return CLI_EXIT_ERR;
	if ((stmt = cli_prepare(ctx, "SELECT (SELECT count(*) FROM incidents"
	    " WHERE id = ?1), (SELECT body FROM notifications WHERE"
	    " incident_id = ?1 ORDER BY id DESC LIMIT 1)")) == NULL)
		return CLI_EXIT_ERR;
	sqlite3_bind_int64(stmt, 1, o.id);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		cli_step_error(ctx, rc);
		return CLI_EXIT_ERR;
	}
	found = sqlite3_column_int(stmt, 0) > 0;
	body = cli_col_text(stmt, 1);
	if (!found) {
		cli_warnx("no incident %lld", (long long)o.id);
		rc = CLI_EXIT_ERR;
	} else if (body == NULL || (draft = strstr(body,
	    MAIL_DRAFT_MARK)) == NULL) {
		cli_warnx("incident %lld has no portal draft yet: the daemon "
		    "writes it with each notice of the incident, and none "
		    "was queued", (long long)o.id);
		rc = CLI_EXIT_ERR;
	} else {
		fputs(draft, stdout);
		if (draft[strlen(draft) - 1] != '\n')
			putchar('\n');
		rc = CLI_EXIT_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * outbox: the notices still to be delivered (queued, with their tries,
 * next try and last error) and those given up (failed); --all adds the
 * delivered ones.  Oldest first, as the mailer sends them.
 */
int
mail_outbox(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts		 o = { 0 };
	struct cli_list		 l = {
		.fields = mail_fields,
		.nmembers = MAIL_COUNT,
		.cols = mail_cols,
		.ncols = CLI_NITEMS(mail_cols),
	};
	sqlite3_stmt		*stmt;
	int			 rc;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	if (cli_open(ctx) == -1 || cli_begin(ctx) == -1)
		return CLI_EXIT_ERR;
	if ((stmt = cli_select(ctx, mail_fields, MAIL_COUNT, "notifications",
	    o.all ? "ORDER BY id" : "WHERE state <> 'sent' ORDER BY id")) ==
	    NULL)
		return CLI_EXIT_ERR;
	l.empty = o.all ? "outbox: nothing waiting to be sent" :
	    "outbox: nothing waiting to be sent (--all lists the delivered "
	    "too)";
	rc = cli_list_print(ctx, &o, stmt, &l);
	sqlite3_finalize(stmt);
	return cli_step_error(ctx, rc) == -1 ? CLI_EXIT_ERR : CLI_EXIT_OK;
}
