/*
 * ctl.c: rtowatch's workflow verbs, spoken to the daemon's control socket
 * (docs/control-api.md).  The daemon is the only writer; it knows the
 * caller by the kernel's word (SO_PEERCRED), so these verbs send no name.
 *
 * Exit status: 0 done, 1 refused or failed (the daemon's reason on
 * stderr), 2 a usage error.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ctl.h"
#include "log.h"
#include "record.h"
#include "util.h"

#define CTL_MAX_REPLY	((size_t)16 * 1024 * 1024)
#define CTL_BUSY_MS	10000	/* connecting to a flooded socket, at most */

struct ctl_buf {
	char	*data;
	size_t	 len;
	int	 overflow;
};

static json_t	*ctl_get(const struct cli_ctx *, const char *);

static size_t
ctl_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ctl_buf	*b = arg;
	size_t		 n = size * nmemb;
	char		*p;

	if (b->len + n > CTL_MAX_REPLY) {
		b->overflow = 1;
		return 0;
	}
	if ((p = realloc(b->data, b->len + n + 1)) == NULL)
		return 0;
	b->data = p;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/*
 * One request.  Returns the reply's JSON object and its HTTP status in
 * *STATUS, or NULL after saying why on stderr.  BODY is consumed.
 */
static json_t *
ctl_request(const struct cli_ctx *c, const char *method, const char *path,
    json_t *body, long *status)
{
	struct ctl_buf	 buf = { NULL, 0, 0 };
	struct curl_slist *hdrs = NULL;
	json_error_t	 jerr;
	json_t		*reply = NULL;
	CURL		*h;
	CURLcode	 rc;
	char		 url[1024], *text = NULL;
	long		 oserr;
	unsigned int	 pause_ms, waited_ms;

	*status = 0;
	snprintf(url, sizeof(url), "http://rtowatch%s", path);
	if ((h = curl_easy_init()) == NULL) {
		cli_warnx("cannot start libcurl");
		json_decref(body);
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ctl_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "POST") == 0) {
		if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
			cli_warnx("cannot encode the request");
			goto done;
		}
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
	}
	/*
	 * EAGAIN from connect: the socket's backlog is full (someone floods
	 * the daemon with connections, which it drops as fast as they come).
	 * Nothing was sent, so even an action may be tried again.
	 */
	for (pause_ms = 20, waited_ms = 0;
	    (rc = curl_easy_perform(h)) == CURLE_COULDNT_CONNECT &&
	    waited_ms < CTL_BUSY_MS; waited_ms += pause_ms, pause_ms =
	    pause_ms * 2 > 500 ? 500 : pause_ms * 2) {
		oserr = 0;
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
		if (oserr != EAGAIN)
			break;
		usleep(pause_ms * 1000);
	}
	if (rc != CURLE_OK) {
		if (rc == CURLE_COULDNT_CONNECT) {
			oserr = 0;
			curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
			cli_warnx("%s: cannot reach rtowatchd: %s (is it "
			    "running? --socket or $RTOWATCH_SOCKET name its "
			    "control socket)", c->socket, oserr != 0 ?
			    strerror((int)oserr) : "no answer");
		}
		else if (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
		    rc == CURLE_GOT_NOTHING)
			cli_warnx("%s: rtowatchd closed the connection without "
			    "an answer: this account may have no role on it "
			    "(see the rules' role lines), or it is refusing "
			    "connections for now; its log says which",
			    c->socket);
		else
			cli_warnx("%s: %s", c->socket, buf.overflow ?
			    "the reply is too large" : curl_easy_strerror(rc));
		goto done;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (buf.data == NULL ||
	    (reply = json_loadb(buf.data, buf.len, 0, &jerr)) == NULL ||
	    !json_is_object(reply)) {
		cli_warnx("%s: the daemon's reply is not JSON (HTTP %ld)",
		    c->socket, *status);
		json_decref(reply);
		reply = NULL;
	}
 done:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(text);
	free(buf.data);
	json_decref(body);
	return reply;
}

/* The daemon's refusal, with the fields it names as missing. */
static int
ctl_refused(const json_t *reply, long status)
{
	const char	*err;
	json_t		*missing, *v;
	size_t		 i;

	/* The daemon's words are for people; the status only without them. */
	err = json_string_value(json_object_get(reply, "error"));
	if (err != NULL && *err != '\0')
		cli_warnx("%s", err);
	else
		cli_warnx("refused (HTTP %ld)", status);
	if ((missing = json_object_get(reply, "missing")) != NULL &&
	    json_array_size(missing) > 0) {
		fprintf(stderr, "fill in first, with rtowatch set ID FIELD "
		    "VALUE (or reported, report-filed):\n");
		json_array_foreach(missing, i, v)
			fprintf(stderr, "  %s\n", json_string_value(v));
	}
	return CLI_EXIT_ERR;
}

/* POST an action; print what it recorded. */
static int
ctl_act(const struct cli_ctx *c, const char *path, json_t *body,
    const char *what)
{
	json_t		*reply;
	json_int_t	 incident, warning, event;
	long		 status;

	if ((reply = ctl_request(c, "POST", path, body, &status)) == NULL)
		return CLI_EXIT_ERR;
	if (status != 200) {
		ctl_refused(reply, status);
		json_decref(reply);
		return CLI_EXIT_ERR;
	}
	incident = json_integer_value(json_object_get(reply, "incident"));
	warning = json_integer_value(json_object_get(reply, "warning"));
	event = json_integer_value(json_object_get(reply, "event"));
	if (warning != 0 && incident != 0)
		printf("warning %lld: %s; incident %lld opened (event %lld)\n",
		    (long long)warning, what, (long long)incident,
		    (long long)event);
	else if (warning != 0)
		printf("warning %lld: %s (event %lld)\n", (long long)warning,
		    what, (long long)event);
	else if (incident != 0)
		printf("incident %lld: %s (event %lld)\n", (long long)incident,
		    what, (long long)event);
	else
		printf("%s (event %lld)\n", what, (long long)event);
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int
ctl_id(const char *s, long long *id)
{
	char	*end;

	errno = 0;
	*id = strtoll(s, &end, 10);
	return errno == 0 && *s != '\0' && *end == '\0' && *id > 0 ? 0 : -1;
}

/*
 * The options of a verb, as "--name VALUE" pairs into BODY under the
 * JSON member each maps to.  Returns the index of the first operand, or
 * -1 after a usage error.
 */
struct ctl_opt {
	const char	*name;		/* --name */
	const char	*member;	/* JSON member */
	int		 integer;	/* 1: a level, 1 to 4; CTL_FLAG: no
					   argument, true */
};
#define CTL_FLAG	2

static int
ctl_options(const struct cli_ctx *c, int argc, char **argv,
    const struct ctl_opt *opts, json_t *body, char **operands, int max)
{
	long long	 n;
	int		 i, k, nops = 0;

	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
			if (strcmp(argv[i], "--") == 0) {
				i++;
				for (; i < argc; i++) {
					if (nops == max)
						goto extra;
					operands[nops++] = argv[i];
				}
				break;
			}
			if (nops == max)
				goto extra;
			operands[nops++] = argv[i];
			continue;
		}
		for (k = 0; opts[k].name != NULL; k++)
			if (strcmp(argv[i] + 2, opts[k].name) == 0)
				break;
		if (opts[k].name == NULL) {
			cli_usage_error(c->cmd, "%s: unknown option %s", c->cmd->name,
			    argv[i]);
			return -1;
		}
		if (opts[k].integer == CTL_FLAG) {
			json_object_set_new(body, opts[k].member, json_true());
			continue;
		}
		if (i + 1 == argc) {
			cli_usage_error(c->cmd, "%s: option %s needs an argument",
			    c->cmd->name, argv[i]);
			return -1;
		}
		i++;
		if (opts[k].integer) {
			if (ctl_id(argv[i], &n) == -1 || n > 4) {
				cli_usage_error(c->cmd, "%s: --%s is a level, 1 to "
				    "4", c->cmd->name, opts[k].name);
				return -1;
			}
			json_object_set_new(body, opts[k].member,
			    json_integer(n));
		} else
			json_object_set_new(body, opts[k].member,
			    json_string(argv[i]));
	}
	return nops;
 extra:
	cli_usage_error(c->cmd, "%s: unexpected argument %s", c->cmd->name, argv[i]);
	return -1;
}

/*
 * The steps recorded on one incident: its ID, options, those the step
 * cannot do without (and why, for the person), and what the record then
 * says.  The workflow's steps take --at in the --tz zone and send it as
 * UTC; portal-closed and contact send --at as given.
 */
#define CTL_STEP_AT_UTC	0x1
#define CTL_STEP_ID_ONE	0x2	/* one error for a missing or a bad ID */

static const struct ctl_opt ctl_o_note[] = { { "note", "note", 0 },
    { NULL, NULL, 0 } };
static const struct ctl_opt ctl_o_reported[] = { { "ticket", "ticket", 0 },
    { "at", "at", 0 }, { "note", "note", 0 }, { "reason", "reason", 0 },
    { NULL, NULL, 0 } };
static const struct ctl_opt ctl_o_restored[] = { { "at", "at", 0 },
    { "note", "note", 0 }, { NULL, NULL, 0 } };
static const struct ctl_opt ctl_o_portal[] = { { "result", "result", 0 },
    { "at", "at", 0 }, { "note", "note", 0 }, { NULL, NULL, 0 } };
static const struct ctl_opt ctl_o_major[] = { { "reason", "reason", 0 },
    { NULL, NULL, 0 } };
static const struct ctl_opt ctl_o_contact[] = { { "to", "to", 0 },
    { "by", "by", 0 }, { "at", "at", 0 }, { "note", "note", 0 },
    { "offline", "offline", CTL_FLAG }, { NULL, NULL, 0 } };

static const struct ctl_step {
	const char		*verb;
	const struct ctl_opt	*opts;
	const char		*required[2];
	const char		*why;
	const char		*done;
	int			 flags;
} ctl_steps[] = {
	{ "ack", ctl_o_note, { NULL, NULL }, "", "acknowledged",
	  CTL_STEP_AT_UTC },
	{ "reported", ctl_o_reported, { "ticket", NULL },
	  " (the portal's ticket number)", "reported on the portal; "
	  "notification clock stopped", CTL_STEP_AT_UTC },
	{ "controlled", ctl_o_note, { NULL, NULL }, "",
	  "damage controlled; restore clock stopped", CTL_STEP_AT_UTC },
	{ "restored", ctl_o_restored, { NULL, NULL }, "",
	  "restored; restore clock stopped", CTL_STEP_AT_UTC },
	{ "report-filed", ctl_o_note, { NULL, NULL }, "",
	  "investigation report filed; report clock stopped",
	  CTL_STEP_AT_UTC },
	{ "close", ctl_o_note, { NULL, NULL }, "", "closed",
	  CTL_STEP_AT_UTC },
	{ "portal-closed", ctl_o_portal, { "result", NULL }, "",
	  "closed on the portal (通報結案)", CTL_STEP_ID_ONE },
	{ "major", ctl_o_major, { "reason", NULL }, "",
	  "declared major (重大事件); the level's recipients are told",
	  CTL_STEP_ID_ONE },
	{ "contact", ctl_o_contact, { "to", "by" }, "", "contact recorded",
	  CTL_STEP_ID_ONE },
};

/* A step of ctl_steps[]: POST /v1/incidents/ID/VERB. */
int
ctl_step(struct cli_ctx *c, int argc, char **argv)
{
	const struct ctl_step	*st = NULL;
	const char		*verb = c->cmd->name, *at;
	json_t			*body;
	char			*ops[1], path[128], utc[TIME_STRLEN];
	long long		 id;
	int64_t			 t;
	size_t			 i;
	int			 n;

	for (i = 0; i < CLI_NITEMS(ctl_steps); i++)
		if (strcmp(ctl_steps[i].verb, verb) == 0)
			st = &ctl_steps[i];
	if (st == NULL)
		fatalx("%s: %s is not a step", __func__, verb);
	body = json_object();
	if ((n = ctl_options(c, argc, argv, st->opts, body, ops, 1)) == -1)
		goto usage;
	if ((st->flags & CTL_STEP_ID_ONE) &&
	    (n == 0 || ctl_id(ops[0], &id) == -1)) {
		cli_usage_error(c->cmd, "%s: missing or bad incident ID", verb);
		goto usage;
	}
	if (n == 0) {
		cli_usage_error(c->cmd, "%s: missing incident ID", verb);
		goto usage;
	}
	if (ctl_id(ops[0], &id) == -1) {
		cli_usage_error(c->cmd, "%s: bad incident ID %s", verb, ops[0]);
		goto usage;
	}
	for (i = 0; i < CLI_NITEMS(st->required); i++)
		if (st->required[i] != NULL &&
		    json_object_get(body, st->required[i]) == NULL) {
			cli_usage_error(c->cmd, "%s: --%s is required%s", verb,
			    st->required[i], st->why);
			goto usage;
		}
	if ((st->flags & CTL_STEP_AT_UTC) &&
	    (at = json_string_value(json_object_get(body, "at"))) != NULL) {
		/* The daemon takes UTC; people give --tz or an offset. */
		if (cli_parse_time(at, &t) == -1) {
			cli_usage_error(c->cmd, "%s: --at %s is not a time like "
			    "2026-11-26T09:30 (in %s), 2026-11-26T09:30+08:00 "
			    "or 2026-11-26T01:30:00Z", verb, at, c->tz);
			goto usage;
		}
		if (t <= 0) {
			cli_usage_error(c->cmd, "%s: --at %s is not a time the "
			    "step could have been done at", verb, at);
			goto usage;
		}
		json_object_set_new(body, "at", json_string(time_fmt(t, utc,
		    sizeof(utc))));
	}
	snprintf(path, sizeof(path), "/v1/incidents/%lld/%s", id, verb);
	return ctl_act(c, path, body, st->done);
 usage:
	json_decref(body);
	return CLI_EXIT_USAGE;
}

int
ctl_set(struct cli_ctx *c, int argc, char **argv)
{
	static const struct ctl_opt none[] = { { NULL, NULL, 0 } };
	json_t		*body = json_object();
	char		*ops[3], path[128], what[192];
	long long	 id;
	int		 n;

	if ((n = ctl_options(c, argc, argv, none, body, ops, 3)) == -1)
		goto usage;
	if (n < 3) {
		cli_usage_error(c->cmd, "set: needs ID, FIELD and VALUE");
		goto usage;
	}
	if (ctl_id(ops[0], &id) == -1) {
		cli_usage_error(c->cmd, "set: bad incident ID %s", ops[0]);
		goto usage;
	}
	json_object_set_new(body, "field", json_string(ops[1]));
	json_object_set_new(body, "value", json_string(ops[2]));
	snprintf(path, sizeof(path), "/v1/incidents/%lld/set", id);
	snprintf(what, sizeof(what), "%s set", ops[1]);
	return ctl_act(c, path, body, what);
 usage:
	json_decref(body);
	return CLI_EXIT_USAGE;
}

int
ctl_level(struct cli_ctx *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = {
		{ "confidentiality", "confidentiality", 1 },
		{ "integrity", "integrity", 1 },
		{ "reason", "reason", 0 },
		{ NULL, NULL, 0 },
	};
	json_t		*body = json_object();
	char		*ops[1], path[128];
	long long	 id;
	int		 n;

	if ((n = ctl_options(c, argc, argv, opts, body, ops, 1)) == -1)
		goto usage;
	if (n == 0 || ctl_id(ops[0], &id) == -1) {
		cli_usage_error(c->cmd, "level: missing or bad incident ID");
		goto usage;
	}
	if (json_object_get(body, "reason") == NULL) {
		cli_usage_error(c->cmd, "level: --reason is required; the record "
		    "keeps why");
		goto usage;
	}
	snprintf(path, sizeof(path), "/v1/incidents/%lld/level", id);
	return ctl_act(c, path, body, "level set");
 usage:
	json_decref(body);
	return CLI_EXIT_USAGE;
}

int
ctl_warning(struct cli_ctx *c, int argc, char **argv)
{
	static const struct ctl_opt open_opts[] = {
		{ "source", "source", 0 }, { "summary", "summary", 0 },
		{ "reference", "reference", 0 }, { "system", "system", 0 },
		{ "detail", "detail", 0 }, { NULL, NULL, 0 },
	};
	static const struct ctl_opt answer_opts[] = {
		{ "reason", "reason", 0 }, { "level", "level", 1 },
		{ NULL, NULL, 0 },
	};
	static const struct {
		const char	*word;
		const char	*answer;
		const char	*done;
	} answers[] = {
		{ "confirm", "confirmed", "confirmed (確實事件)" },
		{ "dismiss", "false-positive", "false positive (誤判)" },
		{ "undetermined", "undetermined",
		  "cannot be determined (無法判斷)" },
	};
	json_t		*body = json_object();
	char		*ops[1], path[128];
	long long	 id;
	size_t		 i;
	int		 n;

	if (argc < 2) {
		cli_usage_error(c->cmd, "warning: open, confirm, dismiss or "
		    "undetermined?");
		goto usage;
	}
	if (strcmp(argv[1], "open") == 0) {
		if (ctl_options(c, argc - 1, argv + 1, open_opts, body, ops,
		    0) == -1)
			goto usage;
		if (json_object_get(body, "source") == NULL ||
		    json_object_get(body, "summary") == NULL) {
			cli_usage_error(c->cmd, "warning open: --source and "
			    "--summary are required");
			goto usage;
		}
		return ctl_act(c, "/v1/warnings", body, "early warning "
		    "(資安預警事件) opened");
	}
	for (i = 0; i < CLI_NITEMS(answers); i++)
		if (strcmp(argv[1], answers[i].word) == 0)
			break;
	if (i == CLI_NITEMS(answers)) {
		cli_usage_error(c->cmd, "warning: unknown action %s", argv[1]);
		goto usage;
	}
	if ((n = ctl_options(c, argc - 1, argv + 1, answer_opts, body, ops,
	    1)) == -1)
		goto usage;
	if (n == 0 || ctl_id(ops[0], &id) == -1) {
		cli_usage_error(c->cmd, "warning %s: missing or bad warning ID",
		    argv[1]);
		goto usage;
	}
	json_object_set_new(body, "answer", json_string(answers[i].answer));
	snprintf(path, sizeof(path), "/v1/warnings/%lld/answer", id);
	return ctl_act(c, path, body, answers[i].done);
 usage:
	json_decref(body);
	return CLI_EXIT_USAGE;
}

/* maintenance list: the windows people added, then the rules' own. */
static int
ctl_maintenance_list(struct cli_ctx *c)
{
	static const char *const days[] = { "sunday", "monday", "tuesday",
	    "wednesday", "thursday", "friday", "saturday" };
	json_t		*reply, *w;
	const char	*s;
	char		 t1[32], t2[32], len[32];
	size_t		 i;
	json_int_t	 wday;

	if ((reply = ctl_get(c, "/v1/maintenance")) == NULL)
		return CLI_EXIT_ERR;
	if (json_array_size(json_object_get(reply, "maintenance")) == 0)
		printf("no maintenance window added (rtowatch maintenance "
		    "add)\n");
	else {
		printf("times in %s\n%-5s %-24s %-19s %-19s %-10s %s\n", c->tz,
		    "ID", "SYSTEM", "FROM", "UNTIL", "BY", "REASON");
		json_array_foreach(json_object_get(reply, "maintenance"), i,
		    w)
			printf("%-5lld %-24s %-19s %-19s %-10s %s\n", (long long)
			    json_integer_value(json_object_get(w, "id")),
			    json_string_value(json_object_get(w, "system")),
			    cli_time_show(json_string_value(json_object_get(w,
			    "starts_at")), t1, sizeof(t1)), cli_time_show(
			    json_string_value(json_object_get(w, "ends_at")),
			    t2, sizeof(t2)), json_string_value(json_object_get(
			    w, "created_by")), json_string_value(
			    json_object_get(w, "reason")));
	}
	if (json_array_size(json_object_get(reply, "rules")) > 0)
		printf("\nin the rules (changed there, not cancelled here):\n");
	json_array_foreach(json_object_get(reply, "rules"), i, w) {
		duration_fmt(json_integer_value(json_object_get(w,
		    "length_ms")), len, sizeof(len));
		s = json_string_value(json_object_get(w, "repeat"));
		printf("  %-24s %s ", json_string_value(json_object_get(w,
		    "system")), s != NULL ? s : "?");
		wday = json_integer_value(json_object_get(w, "weekday"));
		if (json_is_string(json_object_get(w, "at")))
			printf("%s", cli_time_show(json_string_value(
			    json_object_get(w, "at")), t1, sizeof(t1)));
		else
			printf("%s%s%s", s != NULL && strcmp(s, "weekly") == 0
			    && wday >= 0 && wday < 7 ? days[wday] : "",
			    s != NULL && strcmp(s, "weekly") == 0 ? " " : "",
			    json_string_value(json_object_get(w, "time")));
		printf(" for %s (%s:%lld)", len, json_string_value(
		    json_object_get(w, "file")), (long long)json_integer_value(
		    json_object_get(w, "line")));
		if (json_is_string(json_object_get(w, "now_until")))
			printf(", now, until %s", cli_time_show(
			    json_string_value(json_object_get(w, "now_until")),
			    t1, sizeof(t1)));
		printf("\n");
	}
	json_decref(reply);
	return CLI_EXIT_OK;
}

int
ctl_maintenance(struct cli_ctx *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = {
		{ "for", "for", 0 }, { "from", "from", 0 },
		{ "reason", "reason", 0 }, { NULL, NULL, 0 },
	};
	static const struct ctl_opt cancel_opts[] = {
		{ "reason", "reason", 0 }, { NULL, NULL, 0 },
	};
	json_t		*body;
	char		*ops[1], path[64];
	long long	 id;
	int		 n;

	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return ctl_maintenance_list(c);
	body = json_object();
	if (argc >= 2 && strcmp(argv[1], "cancel") == 0) {
		if ((n = ctl_options(c, argc - 1, argv + 1, cancel_opts, body,
		    ops, 1)) == -1)
			goto usage;
		if (n == 0 || ctl_id(ops[0], &id) == -1) {
			cli_usage_error(c->cmd, "maintenance cancel: missing or "
			    "bad window ID (rtowatch maintenance list shows "
			    "them)");
			goto usage;
		}
		snprintf(path, sizeof(path), "/v1/maintenance/%lld/cancel", id);
		return ctl_act(c, path, body, "maintenance window cancelled");
	}
	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		cli_usage_error(c->cmd, "maintenance: add, list or cancel?");
		goto usage;
	}
	if ((n = ctl_options(c, argc - 1, argv + 1, opts, body, ops,
	    1)) == -1)
		goto usage;
	if (n == 0 || json_object_get(body, "for") == NULL) {
		cli_usage_error(c->cmd, "maintenance add: SYSTEM and --for are "
		    "required");
		goto usage;
	}
	json_object_set_new(body, "system", json_string(ops[0]));
	return ctl_act(c, "/v1/maintenance", body, "maintenance window "
	    "added");
 usage:
	json_decref(body);
	return CLI_EXIT_USAGE;
}

/*
 * The report form's fields `edit` writes for $EDITOR are those a person
 * may `set` (include/record.h): its name, the column it comes from, and
 * the procedure's label.
 */
#define CTL_EDITABLE(f)	((f)->setter == RECORD_SET)

/* Write the form: "name: value", continuation lines indented by a tab. */
static int
ctl_edit_write(FILE *f, json_t *inc)
{
	const char	*v, *p;
	size_t		 i;

	fprintf(f, "# rtowatch edit: incident %lld, %s, level %lld.\n"
	    "# One field per \"name:\"; a value goes on over lines that "
	    "begin with a tab.\n# Lines that begin with # are left out; a "
	    "field left empty is not changed.\n",
	    (long long)json_integer_value(json_object_get(inc, "id")),
	    json_string_value(json_object_get(inc, "system")),
	    (long long)json_integer_value(json_object_get(inc, "level")));
	for (i = 0; i < RECORD_NFIELDS; i++) {
		const struct record_field	*rf = &record_fields[i];

		if (!CTL_EDITABLE(rf))
			continue;
		v = json_string_value(json_object_get(inc, rf->column));
		fprintf(f, "\n# %s%s%s\n%s:", rf->zh, rf->en != NULL ? " " : "",
		    rf->en != NULL ? rf->en : "", rf->name);
		if (v != NULL && *v != '\0') {
			fputc(' ', f);
			for (p = v; *p != '\0'; p++) {
				fputc(*p, f);
				if (*p == '\n')
					fputc('\t', f);
			}
		}
		fputc('\n', f);
	}
	return fflush(f) == EOF || ferror(f) ? -1 : 0;
}

/* The index of the field NAME: starts, or -1. */
static int
ctl_edit_field(const char *line, size_t *skip)
{
	size_t	 i, n;

	for (i = 0; i < RECORD_NFIELDS; i++) {
		if (!CTL_EDITABLE(&record_fields[i]))
			continue;
		n = strlen(record_fields[i].name);
		if (strncmp(line, record_fields[i].name, n) == 0 &&
		    line[n] == ':') {
			*skip = n + 1 + (line[n + 1] == ' ');
			return (int)i;
		}
	}
	return -1;
}

/*
 * Read the edited form back into VALUES (one malloc'd string per field).
 * A line that is neither a comment, a field nor a continuation is an
 * error naming its line, and nothing is saved.
 */
static int
ctl_edit_read(FILE *f, char *values[])
{
	char	*line = NULL, *v;
	size_t	 cap = 0, skip;
	ssize_t	 n;
	int	 cur = -1, lineno = 0, k;

	/*
	 * Each value lands in VALUES, which the caller frees: the analyzer
	 * loses it through the array and calls it a leak.
	 */
	while ((n = getline(&line, &cap, f)) != -1) {	/* NOLINT */
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (line[0] == '#')
			continue;
		if ((k = ctl_edit_field(line, &skip)) != -1) {
			if ((v = strdup(line + skip)) == NULL) {
				free(line);
				return -1;
			}
			cur = k;
			free(values[cur]);
			values[cur] = v;
		} else if (line[0] == '\t' && cur != -1) {
			if (asprintf(&v, "%s\n%s", values[cur], line + 1) ==
			    -1) {
				free(line);
				return -1;
			}
			free(values[cur]);
			values[cur] = v;
		} else if (line[strspn(line, " \t")] != '\0') {
			cli_warnx("line %d: not a field of the form: %s",
			    lineno, line);
			free(line);
			return -1;
		}
	}
	free(line);
	return 0;
}

/* Trailing blank lines and spaces are not part of a value. */
static void
ctl_edit_trim(char *v)
{
	size_t	 n = strlen(v);

	while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == ' ' ||
	    v[n - 1] == '\t'))
		v[--n] = '\0';
}

/*
 * edit ID: the report form's fields in $EDITOR (else vi), then each
 * changed field saved through the socket, as `set` would.
 */
int
ctl_edit(struct cli_ctx *c, int argc, char **argv)
{
	/* Through the shell, as EDITOR="code --wait" expects. */
	static const char cmd[] = "exec $RTOWATCH_EDITOR \"$1\"";
	char		 url[64], *path;
	char		*values[RECORD_NFIELDS] = { NULL };
	const char	*editor, *old, *tmpdir;
	json_t		*inc, *body;
	long long	 id;
	size_t		 i;
	FILE		*f;
	int		 fd, rc = CLI_EXIT_ERR, st, changed = 0;

	if (argc != 2 || ctl_id(argv[1], &id) == -1)
		return cli_usage_error(c->cmd, "edit: one incident ID");
	snprintf(url, sizeof(url), "/v1/incidents/%lld", id);
	if ((inc = ctl_get(c, url)) == NULL)
		return CLI_EXIT_ERR;
	if ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	xasprintf(&path, "%s/rtowatch-edit-XXXXXX", tmpdir);
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		cli_warnx("%s: %s", path, strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(path);
		}
		free(path);
		json_decref(inc);
		return CLI_EXIT_ERR;
	}
	rc = ctl_edit_write(f, inc);
	if (fclose(f) == EOF || rc == -1) {
		cli_warnx("%s: %s", path, strerror(errno));
		f = NULL;
		rc = CLI_EXIT_ERR;
		goto done;
	}
	f = NULL;
	rc = CLI_EXIT_ERR;
	if ((editor = getenv("VISUAL")) == NULL || *editor == '\0')
		if ((editor = getenv("EDITOR")) == NULL || *editor == '\0')
			editor = "vi";
	if (setenv("RTOWATCH_EDITOR", editor, 1) == -1)
		goto done;
	fflush(stdout);
	if ((st = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
		_exit(127);
	}
	if (st == -1 || waitpid(st, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		cli_warnx("%s failed; nothing was saved", editor);
		goto done;
	}
	/*
	 * By its name again, as crontab -e does: many editors (sed -i,
	 * Emacs, IDEs) save a new file and rename it over the old one, so
	 * the file we wrote may no longer be the one at PATH.
	 */
	if ((f = fopen(path, "r")) == NULL) {
		cli_warnx("%s: %s; nothing was saved", path, strerror(errno));
		goto done;
	}
	if (ctl_edit_read(f, values) == -1) {
		cli_warnx("nothing was saved; the form stays in %s", path);
		path[0] = '\0';	/* keep the person's work */
		goto done;
	}
	rc = CLI_EXIT_OK;
	for (i = 0; i < RECORD_NFIELDS && rc == CLI_EXIT_OK; i++) {
		if (values[i] == NULL)
			continue;
		ctl_edit_trim(values[i]);
		old = json_string_value(json_object_get(inc,
		    record_fields[i].column));
		if (values[i][0] == '\0' || (old != NULL &&
		    strcmp(old, values[i]) == 0))
			continue;
		body = json_pack("{s:s, s:s}", "field", record_fields[i].name,
		    "value", values[i]);
		if (body == NULL) {
			cli_warnx("%s: not UTF-8 text", record_fields[i].name);
			rc = CLI_EXIT_ERR;
			break;
		}
		snprintf(url, sizeof(url), "/v1/incidents/%lld/set", id);
		rc = ctl_act(c, url, body, record_fields[i].name);
		changed++;
	}
	if (rc == CLI_EXIT_OK && changed == 0)
		printf("incident %lld: no field changed\n", id);
 done:
	for (i = 0; i < RECORD_NFIELDS; i++)
		free(values[i]);
	if (f != NULL)
		fclose(f);
	if (path[0] != '\0')
		unlink(path);
	free(path);
	json_decref(inc);
	return rc;
}

static json_t *
ctl_get(const struct cli_ctx *c, const char *path)
{
	json_t	*reply;
	long	 status;

	if ((reply = ctl_request(c, "GET", path, NULL, &status)) == NULL)
		return NULL;
	if (status != 200) {
		ctl_refused(reply, status);
		json_decref(reply);
		return NULL;
	}
	return reply;
}

/*
 * One check under its system: "    tcp 192.0.2.25 port 25   ok in 3 ms:
 * connected", or with the failures in a row: "refused, 3 in a row: ...".
 */
static void
ctl_status_check(json_t *chk)
{
	const char	*result, *detail;
	json_t		*rtt;
	long long	 fails;

	result = json_string_value(json_object_get(chk, "result"));
	detail = json_string_value(json_object_get(chk, "detail"));
	rtt = json_object_get(chk, "rtt_ms");
	fails = json_integer_value(json_object_get(chk, "failures"));
	printf("    %-40s %s", json_string_value(json_object_get(chk,
	    "check")), result != NULL ? result : "not probed yet");
	if (json_is_integer(rtt))
		printf(" in %lld ms", (long long)json_integer_value(rtt));
	if (fails > 1)
		printf(", %lld in a row", fails);
	if (detail != NULL && *detail != '\0')
		printf(": %s", detail);
	printf("\n");
}


/* A system this node does not probe: the nodes it is assigned to. */
static void
ctl_status_elsewhere(const json_t *sys)
{
	const json_t	*v;
	size_t		 i;

	printf("    not probed from this node; its vantage points:");
	json_array_foreach(json_object_get(sys, "vantage_points"), i, v)
		printf(" %s", json_string_value(v));
	printf("\n");
}

/*
 * The nodes' views that see a check down (issue 21), by system: an
 * object of arrays of {"node", "silent", VIEW}, so that each system's
 * are found without a pass over every node's views.
 */
static json_t *
ctl_status_down_views(json_t *reply)
{
	json_t	*by = json_object(), *n, *v, *list;
	size_t	 i, j;
	int	 silent;

	json_array_foreach(json_object_get(reply, "nodes"), i, n) {
		silent = json_integer_value(json_object_get(n, "silent_ms")) >
		    10000;
		json_array_foreach(json_object_get(n, "views"), j, v) {
			if (!json_is_string(json_object_get(v, "system")) ||
			    strcmp(json_string_value(json_object_get(v,
			    "state")), "down") != 0)
				continue;
			list = json_object_get(by, json_string_value(
			    json_object_get(v, "system")));
			if (list == NULL) {
				list = json_array();
				json_object_set_new(by, json_string_value(
				    json_object_get(v, "system")), list);
			}
			json_array_append_new(list, json_pack("{sO sb sO sO sO}",
			    "node", json_object_get(n, "name"), "silent",
			    silent, "check", json_object_get(v, "check"),
			    "since", json_object_get(v, "since"), "cause",
			    json_object_get(v, "cause")));
		}
	}
	return by;
}

/* "  down from b since T: CAUSE", a line for each of DOWN's views. */
static void
ctl_status_down_from(const json_t *down, const char *indent)
{
	const json_t	*v;
	const char	*cause;
	char		 t1[32];
	size_t		 i;

	json_array_foreach(down, i, v) {
		cause = json_string_value(json_object_get(v, "cause"));
		printf("%sdown from %s since %s: %s%s\n", indent,
		    json_string_value(json_object_get(v, "node")),
		    cli_time_show(json_string_value(json_object_get(v,
		    "since")), t1, sizeof(t1)), cause != NULL && *cause !=
		    '\0' ? cause : json_string_value(json_object_get(v,
		    "check")), json_is_true(json_object_get(v, "silent")) ?
		    " (that node is silent: its last view)" : "");
	}
}

/*
 * The nodes sharing the register (lead.c): who answers, who leads, and
 * who has been silent longer than a few of its heartbeats; then the
 * down views of systems not listed above (a node's own network lost,
 * "(monitoring host)").
 */
static void
ctl_status_nodes(json_t *reply, json_t *down)
{
	json_t		*node = json_object_get(reply, "node"), *n, *v;
	const char	*name;
	char		 t1[32];
	size_t		 i;
	json_int_t	 silent;

	if (!json_is_object(node))
		return;
	printf("\nnode: %s, %s\n", json_string_value(json_object_get(node,
	    "name")), json_string_value(json_object_get(node, "role")));
	if (json_array_size(json_object_get(reply, "nodes")) == 0)
		return;
	printf("%-24s %-9s %-19s %s\n", "NODE", "ROLE", "LAST CONTACT",
	    "VERSION");
	json_array_foreach(json_object_get(reply, "nodes"), i, n) {
		silent = json_integer_value(json_object_get(n, "silent_ms"));
		printf("%-24s %-9s %-19s %s", json_string_value(
		    json_object_get(n, "name")), json_string_value(
		    json_object_get(n, "role")), cli_time_show(
		    json_string_value(json_object_get(n, "last_contact")), t1,
		    sizeof(t1)), json_string_value(json_object_get(n,
		    "version")));
		if (silent > 10000)
			printf("  SILENT for %lld s", (long long)(silent / 1000));
		printf("\n");
	}
	json_object_foreach(down, name, v) {
		printf("%s:\n", name);
		ctl_status_down_from(v, "  ");
	}
}
/* The database: writing, or failing and holding changes in memory. */
static void
ctl_status_store(const json_t *st)
{
	char	 t1[32];

	if (!json_is_object(st))
		return;
	if (!json_is_true(json_object_get(st, "failing"))) {
		printf("store: writing\n");
		return;
	}
	printf("store: FAILING (資料庫寫入失敗) since %s: %s\n"
	    "  %lld changes (%lld bytes) held in memory, written with their "
	    "original times once the database accepts writes",
	    cli_time_show(json_string_value(json_object_get(st, "since")), t1,
	    sizeof(t1)), json_is_string(json_object_get(st, "error")) ?
	    json_string_value(json_object_get(st, "error")) : "refused",
	    (long long)json_integer_value(json_object_get(st, "held")),
	    (long long)json_integer_value(json_object_get(st, "held_bytes")));
	if (json_integer_value(json_object_get(st, "refused")) > 0)
		printf("; %lld refused at the bound, not recorded",
		    (long long)json_integer_value(json_object_get(st,
		    "refused")));
	printf("\n  a restart now would lose them; changes by people are "
	    "refused meanwhile\n");
}

int
ctl_status(struct cli_ctx *c, int argc, char **argv)
{
	json_t		*reply, *sys, *chk, *dl, *outbox, *host, *down;
	char		 t1[32];
	size_t		 i, j;

	(void)argv;
	if (argc > 1)
		return cli_usage_error(c->cmd, "status: unexpected argument %s",
		    argv[1]);
	if ((reply = ctl_get(c, "/v1/status")) == NULL)
		return CLI_EXIT_ERR;
	down = ctl_status_down_views(reply);
	printf("%-24s %-11s %-19s %s\n", "SYSTEM", "STATE", "DOWN SINCE",
	    "INCIDENT");
	json_array_foreach(json_object_get(reply, "systems"), i, sys) {
		printf("%-24s %-11s %-19s ", json_string_value(
		    json_object_get(sys, "name")), json_string_value(
		    json_object_get(sys, "state")), cli_time_show(json_string_value(
		    json_object_get(sys, "since")), t1, sizeof(t1)));
		if (json_is_integer(json_object_get(sys, "incident")))
			printf("%lld (level %lld%s)\n", (long long)
			    json_integer_value(json_object_get(sys,
			    "incident")), (long long)json_integer_value(
			    json_object_get(sys, "level")), json_is_true(
			    json_object_get(sys, "major")) ? ", major" : "");
		else
			printf("-\n");
		if (json_is_false(json_object_get(sys, "probed_here")))
			ctl_status_elsewhere(sys);
		else
			json_array_foreach(json_object_get(sys, "checks"), j,
			    chk)
				ctl_status_check(chk);
		/* The nodes that see it down; the rest, with the nodes. */
		if (json_is_string(json_object_get(sys, "name"))) {
			ctl_status_down_from(json_object_get(down,
			    json_string_value(json_object_get(sys, "name"))),
			    "  ");
			json_object_del(down, json_string_value(
			    json_object_get(sys, "name")));
		}
	}
	if (json_array_size(json_object_get(reply, "deadlines")) > 0) {
		printf("\n%-9s %-24s %-8s %-6s %s\n", "INCIDENT", "SYSTEM",
		    "CLOCK", "LEVEL", "DUE");
		json_array_foreach(json_object_get(reply, "deadlines"), i,
		    dl)
			printf("%-9lld %-24s %-8s %-6lld %s%s%s\n", (long long)
			    json_integer_value(json_object_get(dl,
			    "incident")), json_string_value(json_object_get(dl,
			    "system")), json_string_value(json_object_get(dl,
			    "kind")), (long long)json_integer_value(
			    json_object_get(dl, "level")), cli_time_show(
			    json_string_value(json_object_get(dl, "due_at")),
			    t1, sizeof(t1)), json_is_string(json_object_get(dl,
			    "breached_at")) ? "  MISSED" : "",
			    json_is_true(json_object_get(dl, "drill")) ||
			    json_integer_value(json_object_get(dl, "drill")) ?
			    "  [演練 DRILL]" : "");
	}
	if (json_array_size(json_object_get(reply, "traffic")) > 0) {
		printf("\n%-16s %-10s %12s %14s %12s %8s %s\n", "ANOMALY",
		    "INTERFACE", "PACKETS/S", "BYTES/S", "PACKETS", "DROPPED",
		    "EPISODES");
		json_array_foreach(json_object_get(reply, "traffic"), i, dl) {
			printf("%-16s %-10s %12.0f %14.0f %12lld %8lld %lld\n",
			    json_string_value(json_object_get(dl, "name")),
			    json_string_value(json_object_get(dl,
			    "interface")), json_number_value(json_object_get(dl,
			    "packets_per_s")), json_number_value(
			    json_object_get(dl, "bytes_per_s")), (long long)
			    json_integer_value(json_object_get(dl, "packets")),
			    (long long)json_integer_value(json_object_get(dl,
			    "dropped")), (long long)json_integer_value(
			    json_object_get(dl, "open_episodes")));
			if (json_is_string(json_object_get(dl, "error")))
				printf("%-16s NOT CAPTURING: %s\n", "",
				    json_string_value(json_object_get(dl,
				    "error")));
		}
	}
	host = json_object_get(reply, "host");
	if (json_is_true(json_object_get(host, "failing")))
		printf("\nmonitoring host: FAILING since %s: %lld probes "
		    "failed on this host, not at their targets (no incident "
		    "is opened for them); the last: %s\n", cli_time_show(
		    json_string_value(json_object_get(host, "since")), t1,
		    sizeof(t1)), (long long)json_integer_value(
		    json_object_get(host, "failures")), json_string_value(
		    json_object_get(host, "last_error")));
	else if (json_integer_value(json_object_get(host,
	    "local_errors")) > 0)
		printf("\nmonitoring host: ok; %lld probes failed on this host "
		    "since the start, the last at %s: %s\n", (long long)
		    json_integer_value(json_object_get(host, "local_errors")),
		    cli_time_show(json_string_value(json_object_get(host,
		    "last_error_at")), t1, sizeof(t1)), json_string_value(
		    json_object_get(host, "last_error")));
	outbox = json_object_get(reply, "outbox");
	printf("\noutbox: %lld queued, %lld failing, %lld failed\n",
	    (long long)json_integer_value(json_object_get(outbox, "queued")),
	    (long long)json_integer_value(json_object_get(outbox, "failing")),
	    (long long)json_integer_value(json_object_get(outbox, "failed")));
	ctl_status_store(json_object_get(reply, "store"));
	ctl_status_nodes(reply, down);
	json_decref(down);
	json_decref(reply);
	return CLI_EXIT_OK;
}

/* The libcurl and zone every socket verb needs, then the verb. */
int
ctl_main(struct cli_ctx *ctx, int argc, char **argv)
{
	int	 rc;

	if (setenv("TZ", ctx->tz, 1) == -1)
		return CLI_EXIT_ERR;
	tzset();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_warnx("cannot start libcurl");
		return CLI_EXIT_ERR;
	}
	rc = ctx->cmd->exec(ctx, argc, argv);
	curl_global_cleanup();
	return rc;
}

/*
 * open: an incident a person found (5.2.1), confirmed as a security
 * incident now or at --at; the daemon records the caller's account.
 */
int
ctl_open(struct cli_ctx *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = {
		{ "system", "system", 0 }, { "title", "title", 0 },
		{ "level", "level", 1 }, { "reason", "reason", 0 },
		{ "at", "at", 0 }, { NULL, NULL, 0 },
	};
	json_t	*body = json_object();
	char	*ops[1];

	if (ctl_options(c, argc, argv, opts, body, ops, 0) == -1)
		goto usage;
	if ((json_object_get(body, "system") == NULL) ==
	    (json_object_get(body, "title") == NULL)) {
		cli_usage_error(c->cmd, "open: give --system NAME (a system of the "
		    "rules) or --title TEXT, one of them");
		goto usage;
	}
	if (json_object_get(body, "level") == NULL ||
	    json_object_get(body, "reason") == NULL) {
		cli_usage_error(c->cmd, "open: --level and --reason are required");
		goto usage;
	}
	return ctl_act(c, "/v1/incidents", body, "opened (人員發現之資安事件, "
	    "5.2.1); the one-hour notification clock runs");
 usage:
	json_decref(body);
	return CLI_EXIT_USAGE;
}

/* "sent 2026-12-03 10:00:05 (5s after it was queued)" */
static void
ctl_drill_mail(const struct cli_ctx *c, json_t *n, int webhook)
{
	const char	*created, *sent, *state, *err;
	char		 b1[32], b2[32];
	int64_t		 t1, t2;

	(void)c;
	created = json_string_value(json_object_get(n, "created_at"));
	sent = json_string_value(json_object_get(n, "sent_at"));
	state = json_string_value(json_object_get(n, "state"));
	err = json_string_value(json_object_get(n, "last_error"));
	printf("  #%-4lld %s%-10s %s\n        queued %s",
	    (long long)json_integer_value(json_object_get(n, "id")),
	    webhook ? "webhook " : "",
	    json_string_value(json_object_get(n, "recipient")),
	    json_string_value(json_object_get(n, "event")),
	    cli_time_show(created, b1, sizeof(b1)));
	if (sent != NULL) {
		printf(", delivered to the %s %s", webhook ? "receiver" :
		    "mail server", cli_time_show(sent, b2, sizeof(b2)));
		if (created != NULL && time_parse(created, &t1) == 0 &&
		    time_parse(sent, &t2) == 0)
			printf(" (%.1f s later)", (double)(t2 - t1) / 1000);
		if (json_is_string(json_object_get(n, "address")))
			printf(" for %s", json_string_value(json_object_get(n,
			    "address")));
		printf("\n");
	} else
		printf(", not delivered: %s after %lld attempt(s)%s%s\n",
		    state != NULL ? state : "?",
		    (long long)json_integer_value(json_object_get(n,
		    "attempts")), err != NULL ? ": " : "", err ? err : "");
}

/*
 * What a drill's notifications and clocks did, from the daemon's
 * record: each mail with when it was queued and when the server took
 * it, each event of the stream the desktop agents follow, and each
 * clock with its reminders and deadline (5.8.1).
 */
static int
ctl_drill_report(struct cli_ctx *c, const char *idstr)
{
	json_t		*inc, *arr, *v;
	const char	*kind, *s1;
	char		 path[64], b1[32], b2[32], b3[32];
	long long	 id;
	size_t		 i;
	int		 sent, nmail, hook;

	if (ctl_id(idstr, &id) == -1) {
		cli_usage_error(c->cmd, "drill report: bad incident ID %s", idstr);
		return CLI_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/v1/incidents/%lld", id);
	if ((inc = ctl_get(c, path)) == NULL)
		return CLI_EXIT_ERR;
	kind = json_string_value(json_object_get(inc, "kind"));
	if (kind == NULL || strcmp(kind, "drill") != 0) {
		cli_warnx("incident %lld is not a drill (it is %s)", id,
		    kind != NULL ? kind : "?");
		json_decref(inc);
		return CLI_EXIT_ERR;
	}
	v = json_object_get(inc, "drill_factor");
	printf("演練 DRILL incident %lld: %s, 第%lld級 level %lld, %s\n", id,
	    json_string_value(json_object_get(inc, "system")),
	    (long long)json_integer_value(json_object_get(inc, "level")),
	    (long long)json_integer_value(json_object_get(inc, "level")),
	    json_string_value(json_object_get(inc, "status")));
	if (json_is_integer(v) && json_integer_value(v) > 1)
		printf("clocks compressed %lld times (an hour lasted %lld s)\n",
		    (long long)json_integer_value(v),
		    (long long)(3600 / json_integer_value(v)));
	else
		printf("clocks of real length\n");
	printf("opened %s (times in %s)\n", cli_time_show(json_string_value(
	    json_object_get(inc, "opened_at")), b1, sizeof(b1)), c->tz);

	/* The outbox's rows, mail and webhooks apart (their channel). */
	arr = json_object_get(inc, "notifications");
	for (hook = 0; hook < 2; hook++) {
		nmail = sent = 0;
		json_array_foreach(arr, i, v) {
			s1 = json_string_value(json_object_get(v, "channel"));
			if ((s1 != NULL && strcmp(s1, "webhook") == 0) != hook)
				continue;
			nmail++;
			if (json_is_string(json_object_get(v, "sent_at")))
				sent++;
		}
		if (hook && nmail == 0)
			break;
		printf("\n%s: %d queued, %d delivered\n", hook ? "Webhooks" :
		    "郵件 Mail (SMTP)", nmail, sent);
		json_array_foreach(arr, i, v) {
			s1 = json_string_value(json_object_get(v, "channel"));
			if ((s1 != NULL && strcmp(s1, "webhook") == 0) == hook)
				ctl_drill_mail(c, v, hook);
		}
	}

	arr = json_object_get(inc, "timeline");
	printf("\n事件串流 Event stream (rtowatch-notify, GET /v1/events): "
	    "%zu events\n", json_array_size(arr));
	json_array_foreach(arr, i, v)
		printf("  #%-4lld %s  %-26s %s\n",
		    (long long)json_integer_value(json_object_get(v, "id")),
		    cli_time_show(json_string_value(json_object_get(v, "at")), b1,
		    sizeof(b1)), json_string_value(json_object_get(v,
		    "event")), json_string_value(json_object_get(v, "actor")));

	arr = json_object_get(inc, "clocks");
	printf("\n期限 Clocks: %zu\n", json_array_size(arr));
	json_array_foreach(arr, i, v) {
		printf("  %-8s level %lld: started %s, due %s, %lld "
		    "reminder(s)",
		    json_string_value(json_object_get(v, "kind")),
		    (long long)json_integer_value(json_object_get(v, "level")),
		    cli_time_show(json_string_value(json_object_get(v,
		    "started_at")), b1, sizeof(b1)),
		    cli_time_show(json_string_value(json_object_get(v, "due_at")),
		    b2, sizeof(b2)),
		    (long long)json_integer_value(json_object_get(v,
		    "reminders_done")));
		if ((s1 = json_string_value(json_object_get(v,
		    "breached_at"))) != NULL)
			printf(", deadline missed %s", cli_time_show(s1, b3,
			    sizeof(b3)));
		if ((s1 = json_string_value(json_object_get(v,
		    "stopped_at"))) != NULL)
			printf(", stopped %s by %s", cli_time_show(s1, b3,
			    sizeof(b3)), json_string_value(json_object_get(v,
			    "stopped_by")));
		else
			printf(", running");
		printf("\n");
	}
	json_decref(inc);
	return CLI_EXIT_OK;
}

/*
 * drill: a drill incident (資安演練, 5.8.1) through every path, its
 * clocks of real length or compressed; drill report ID: what happened.
 */
int
ctl_drill(struct cli_ctx *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = {
		{ "system", "system", 0 }, { "title", "title", 0 },
		{ "level", "level", 1 }, { "compressed", "compressed", 0 },
		{ "real", "real", CTL_FLAG }, { "note", "note", 0 },
		{ NULL, NULL, 0 },
	};
	json_t		*body, *v;
	char		*ops[1];
	long long	 factor = 1;

	if (argc >= 2 && (strcmp(argv[1], "report") == 0 ||
	    strcmp(argv[1], "show") == 0)) {
		if (argc != 3) {
			cli_usage_error(c->cmd, "drill %s: one incident ID",
			    argv[1]);
			return CLI_EXIT_USAGE;
		}
		return ctl_drill_report(c, argv[2]);
	}
	body = json_object();
	if (ctl_options(c, argc, argv, opts, body, ops, 0) == -1)
		goto usage;
	if ((v = json_object_get(body, "compressed")) != NULL) {
		if (json_object_get(body, "real") != NULL) {
			cli_usage_error(c->cmd, "drill: --compressed or --real, not "
			    "both");
			goto usage;
		}
		if (ctl_id(json_string_value(v), &factor) == -1 ||
		    factor > 3600) {
			cli_usage_error(c->cmd, "drill: --compressed is how many "
			    "times faster the clocks run, 1 to 3600 (60: an "
			    "hour lasts a minute)");
			goto usage;
		}
	}
	json_object_del(body, "compressed");
	json_object_del(body, "real");
	json_object_set_new(body, "factor", json_integer(factor));
	return ctl_act(c, "/v1/drills", body, "演練 DRILL opened; follow it "
	    "with rtowatch drill report ID");
 usage:
	json_decref(body);
	return CLI_EXIT_USAGE;
}
