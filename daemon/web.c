/*
 * web.c: the web page (set web listen), read-only, on the daemon's loop.
 *
 * What it shows comes from two places, so that the page says exactly
 * what the other tools say.  The status, the warnings and the event
 * stream are the control socket's own replies (control_read runs the
 * route's handler and hands back its JSON); the printed forms (form 01,
 * the register, form 02, the monthly digest and availability) are the
 * CLI's own HTML, made by running rtowatch as a child with its output on
 * a pipe the loop reads: a form is drawn in one place, and a slow query
 * of the CLI's runs beside the loop, not in it.
 *
 * Who is calling: on loopback without TLS, the kernel knows which account
 * owns the client's socket (socket diagnostics, as ss -e shows it),
 * and that account gets the role the control socket would give it.  Over
 * TLS, a person signs in with the host's account and password (PAM, in a
 * thread: pam_unix sleeps on a wrong password) and gets a session
 * cookie, until it signs out (POST /signout ends the session).  Every
 * sign-in, sign-out and refusal is logged with the account.  The
 * listener answers no POST but those two: an auditor, or anyone, cannot
 * reach a write from here; the workflow stays on the control socket.
 *
 * The status page follows the event stream: GET /events is a server-sent
 * event stream fed by the same commits that wake the control socket's
 * long poll (control_follow), and the page redraws its main part when an
 * event arrives.  Everything the page needs is in the page: inline CSS,
 * inline script, charts drawn here as SVG; nothing comes from elsewhere.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <security/pam_appl.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "control.h"
#include "log.h"
#include "util.h"
#include "web.h"

#define WEB_MAX_JOBS		8	/* CLI children at once */
#define WEB_JOB_TIMEOUT_S	20
#define WEB_JOB_MAX_BYTES	((size_t)8 * 1024 * 1024)
#define WEB_MAX_CLIENTS		64	/* /events streams */
#define WEB_HEARTBEAT_S		15
#define WEB_SESSION_S		(8 * 3600)
#define WEB_MAX_SESSIONS	256
#define WEB_MAX_SIGNINS		4	/* PAM threads at once */
#define WEB_TIMEOUT_S		30
#define WEB_LOG_EVERY_S		10	/* at most one refusal line per */

extern char **environ;

struct web;

/* A child rtowatch whose output becomes a page. */
struct web_job {
	TAILQ_ENTRY(web_job)	 entry;
	struct web		*web;
	struct evhttp_request	*req;		/* NULL: the client left */
	struct evhttp_connection *evcon;
	pid_t			 pid;
	struct bufferevent	*out;
	struct evbuffer		*buf;
	struct event		*timer;
	struct event		*reap;
	int			 en;
	int			 kind;		/* WEB_JOB_* */
	char			 title[128];
	struct evbuffer		*filter;	/* its period's form */
};
TAILQ_HEAD(web_job_list, web_job);

#define WEB_JOB_FORM	0	/* the CLI's HTML, served as it is */
#define WEB_JOB_AVAIL	1	/* its CSV, drawn as a table and a chart */

/* A browser following /events. */
struct web_client {
	TAILQ_ENTRY(web_client)	 entry;
	struct web		*web;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
};
TAILQ_HEAD(web_client_list, web_client);

struct web_session {
	TAILQ_ENTRY(web_session) entry;
	char			 token[65];
	char			 name[64];
	uid_t			 uid;
	enum conf_role		 role;
	int64_t			 until;		/* mono ms */
};
TAILQ_HEAD(web_session_list, web_session);

/* A sign-in waiting for PAM in its thread. */
struct web_signin {
	TAILQ_ENTRY(web_signin)	 entry;
	struct web		*web;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	char			 user[64];
	char			*password;
	char			 peer[64];
	int			 ok;
	int			 fds[2];	/* the thread's "done" */
	struct event		*ev;
	pthread_t		 thread;
};
TAILQ_HEAD(web_signin_list, web_signin);

struct web {
	struct event_base	*base;
	struct control		*control;
	struct evhttp		*http;
	struct web_conf		 cf;		/* the "set web" lines in force */
	SSL_CTX			*ssl;
	char			*cli;
	char			*database;
	char			*rules;
	struct web_job_list	 jobs;
	int			 njobs;
	struct web_client_list	 clients;
	int			 nclients;
	int64_t			 last_event;
	struct event		*heartbeat;
	struct web_session_list	 sessions;
	int			 nsessions;
	struct web_signin_list	 signins;
	int			 nsignins;
	int64_t			 refused_at;	/* mono ms, last logged */
	uint64_t		 refused;	/* since */
	/*
	 * The charts' history: system -> {check: [slot rows, oldest
	 * first]}, read whole a system at a time, then all together from
	 * a few minutes before the last read (rtt_read, Unix s); the
	 * systems not read yet, and the event that reads them.
	 */
	json_t			*rtt;
	int64_t			 rtt_from, rtt_slot, rtt_read;
	json_t			*rtt_todo;
	struct event		*rtt_fill;
};

/* Who asks: an account and its role, or nobody yet. */
struct web_who {
	char		 name[64];
	uid_t		 uid;
	enum conf_role	 role;
	int		 session;	/* signed in, not loopback's */
};

/* ------------------------------------------------------------ text */

#define WEB_T(en, zh, e)	((en) ? (e) : (zh))

static void
web_esc(struct evbuffer *b, const char *s)
{
	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			evbuffer_add(b, "&lt;", 4);
			break;
		case '>':
			evbuffer_add(b, "&gt;", 4);
			break;
		case '&':
			evbuffer_add(b, "&amp;", 5);
			break;
		case '"':
			evbuffer_add(b, "&quot;", 6);
			break;
		case '\'':
			evbuffer_add(b, "&#39;", 5);
			break;
		default:
			evbuffer_add(b, s, 1);
		}
	}
}

/*
 * A time as people read it: the API's UTC stamp (and any inside a text)
 * in the rules' zone, which the daemon keeps in TZ, as the forms and mails
 * show them.
 */
static void
web_time(struct evbuffer *b, const char *iso)
{
	char	*local;

	if (iso == NULL)
		return;
	local = time_text_local(iso, 0);
	web_esc(b, local);
	free(local);
}

static const char *
web_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A JSON member as text: strings as they are, numbers written out. */
static const char *
web_val(const json_t *obj, const char *key, char *buf, size_t len)
{
	const json_t	*v = json_object_get(obj, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, len, "%.1f", json_real_value(v));
		return buf;
	}
	return "";
}

/* ------------------------------------------------------------ page */

static const char web_css[] =
	"*{box-sizing:border-box}"
	"body{font-family:'Noto Sans CJK TC','WenQuanYi Micro Hei',"
	"'DejaVu Sans',sans-serif;margin:0;color:#111;background:#fafafa}"
	"header{background:#1d3557;color:#fff;padding:.5em 1em;"
	"display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:center}"
	"header a{color:#fff}header b{margin-right:1em}"
	"#signout{display:inline;margin:0}"
	"main{padding:1em;max-width:72em}"
	"table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}"
	"th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;"
	"vertical-align:top}th{background:#eef}"
	".up{color:#070}.down{color:#b00;font-weight:bold}"
	".maintenance{color:#a60}.unknown{color:#666}"
	".due{font-variant-numeric:tabular-nums}.over{color:#b00}"
	".rtt{display:inline-block;width:24em;max-width:100%;margin:0 1em 1em 0}"
	".rtt figcaption{font-size:.85em;overflow-wrap:anywhere}"
	".rtt svg{width:100%;height:auto;font-size:9px;fill:#555}"
	".rtt path{fill:none}.rtt .grid{stroke:#ddd}"
	".rtt .band{stroke:#9bc}.rtt .avg{stroke:#1d3557;stroke-width:1.2}"
	".rtt .fail{stroke:#c00}"
	"@media (max-width:40em){table,tbody,tr,td,th{display:block}"
	"thead{display:none}td{border:0;padding:.1em .3em}"
	"tr{border:1px solid #bbb;margin:.4em 0}"
	"td[data-l]::before{content:attr(data-l) ': ';color:#555}}"
	"@media print{header nav,#live,#signout{display:none}body{background:#fff}"
	"main{max-width:none}a{color:inherit;text-decoration:none}}"
	"@page{size:A4;margin:15mm}";

/* On a phone each cell is a line: lab() names it from its column. */
static const char web_js[] =
	"function lab(){document.querySelectorAll('table').forEach("
	"function(t){var h=[].map.call(t.querySelectorAll('thead th'),"
	"function(e){return e.textContent;});"
	"t.querySelectorAll('tbody tr').forEach(function(r){"
	"var o=h.length-r.children.length;[].forEach.call(r.children,"
	"function(c,i){if(h[i+o])c.dataset.l=h[i+o];});});});}lab();"
	"function tick(){var n=Date.now();"
	"document.querySelectorAll('[data-due]').forEach(function(e){"
	"var d=Date.parse(e.dataset.due)-n,s=Math.abs(d)/1000|0,"
	"t=(s/3600|0)+':'+('0'+(s/60%60|0)).slice(-2)+':'+('0'+s%60).slice(-2);"
	"e.textContent=(d<0?'-':'')+t;e.classList.toggle('over',d<0);});}"
	"tick();setInterval(tick,1000);"
	"function upd(ev){var x=new XMLHttpRequest();"
	"x.open('GET',location.pathname+location.search+"
	"(location.search?'&':'?')+'part=1');"
	"x.onload=function(){if(x.status!=200)return;"
	"document.getElementById('status').innerHTML=x.responseText;"
	"var b=document.body;b.dataset.updated=Date.now();"
	"if(ev)b.dataset.event=ev;lab();tick();};x.send();}"
	"if(window.EventSource&&document.getElementById('status')){"
	"var es=new EventSource('/events'),back=0;"
	"es.onmessage=function(m){upd(m.data);};"
	/* The charts' history, read after the page was drawn. */
	"es.addEventListener('history',function(){upd();});"
	/* After a break in the stream, what it missed: redraw. */
	"es.onopen=function(){if(back||document.querySelector('#rtt .wait'))"
	"upd();back=1;"
	"document.body.dataset.live='1';};"
	/* The charts move on without events too: a redraw a minute. */
	"setInterval(upd,60000);}";

static void
web_begin(struct evbuffer *b, int en, const char *title,
    const struct web_who *who)
{
	const char	*l = en ? "&amp;lang=en" : "";

	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width,initial-scale=1\"><title>",
	    en ? "en" : "zh-Hant-TW");
	web_esc(b, title);
	evbuffer_add_printf(b, " · rtowatch</title><style>%s</style></head>"
	    "<body><header><b>rtowatch</b><nav>", web_css);
	evbuffer_add_printf(b, "<a href=\"/?x=1%s\">%s</a> · "
	    "<a href=\"/register?x=1%s\">%s</a> · "
	    "<a href=\"/warnings?x=1%s\">%s</a> · "
	    "<a href=\"/availability?x=1%s\">%s</a> · "
	    "<a href=\"/digest?x=1%s\">%s</a> · "
	    "<a href=\"?%s\">%s</a></nav>", l,
	    WEB_T(en, "狀態", "status (狀態)"), l,
	    WEB_T(en, "登記簿", "register (登記簿)"), l,
	    WEB_T(en, "資安預警事件", "warnings (資安預警事件)"), l,
	    WEB_T(en, "可用性", "availability (可用性)"), l,
	    WEB_T(en, "月報", "monthly digest (月報)"),
	    en ? "" : "lang=en", en ? "中文" : "English");
	if (who != NULL && who->name[0] != '\0') {
		evbuffer_add(b, "<span>", 6);
		web_esc(b, who->name);
		evbuffer_add_printf(b, " (%s)</span>", who->role ==
		    ROLE_OPERATOR ? "operator" : "auditor");
		if (who->session)
			evbuffer_add_printf(b, "<form method=\"post\" "
			    "action=\"/signout\" id=\"signout\"><button>%s"
			    "</button></form>", WEB_T(en, "登出", "sign out "
			    "(登出)"));
	}
	evbuffer_add(b, "</header><main><h1>", 19);
	web_esc(b, title);
	evbuffer_add(b, "</h1>", 5);
}

static void
web_end(struct evbuffer *b)
{
	evbuffer_add_printf(b, "</main><script>%s</script></body></html>\n",
	    web_js);
}

static void
web_send(struct evhttp_request *req, int status, const char *type,
    struct evbuffer *b)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	/* Nothing but what this host serves, and no framing by others. */
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'self'; "
	    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
	    "img-src 'self' data:; frame-ancestors 'none'");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", b);
}

static void
web_html(struct evhttp_request *req, int status, struct evbuffer *b)
{
	web_send(req, status, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

static void
web_error(struct evhttp_request *req, int status, int en, const char *msg)
{
	struct evbuffer	*b = evbuffer_new();

	if (b == NULL)
		fatalx("web: evbuffer_new");
	web_begin(b, en, WEB_T(en, "錯誤", "error (錯誤)"), NULL);
	evbuffer_add(b, "<p>", 3);
	web_esc(b, msg);
	evbuffer_add(b, "</p>", 4);
	web_end(b);
	web_html(req, status, b);
}

/* ------------------------------------------------------------ status */

static void
web_status_systems(struct evbuffer *b, const json_t *systems, int en)
{
	const json_t	*s, *c;
	size_t		 i, j;
	char		 num[32];
	const char	*state;

	evbuffer_add_printf(b, "<h2>%s</h2><table><thead><tr><th>%s</th>"
	    "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>"
	    "</thead><tbody>", WEB_T(en, "系統與檢查", "systems and checks "
	    "(系統)"), WEB_T(en, "系統", "system"), WEB_T(en, "狀態",
	    "state"), WEB_T(en, "起始時間", "since"), WEB_T(en, "檢查",
	    "check"), WEB_T(en, "最近結果", "last result"), WEB_T(en,
	    "往返時間", "round trip"));
	json_array_foreach(systems, i, s) {
		const json_t	*checks = json_object_get(s, "checks");
		size_t		 n = json_array_size(checks);

		state = web_str(s, "state");
		json_array_foreach(checks, j, c) {
			evbuffer_add(b, "<tr>", 4);
			if (j == 0) {
				evbuffer_add_printf(b, "<td rowspan=\"%zu\" "
				    "class=\"system\">", n);
				web_esc(b, web_str(s, "name"));
				if (json_is_integer(json_object_get(s,
				    "incident")))
					evbuffer_add_printf(b, "<br><a href="
					    "\"/incident?id=%lld%s\">%s %lld"
					    "</a>", (long long)
					    json_integer_value(json_object_get(
					    s, "incident")), en ? "&amp;lang=en"
					    : "", WEB_T(en, "事件", "incident"),
					    (long long)json_integer_value(
					    json_object_get(s, "incident")));
				evbuffer_add_printf(b, "</td><td rowspan="
				    "\"%zu\" class=\"%s state\">", n, state);
				web_esc(b, state);
				evbuffer_add_printf(b, "</td><td rowspan="
				    "\"%zu\">", n);
				web_time(b, web_str(s, "since"));
				evbuffer_add(b, "</td>", 5);
			}
			evbuffer_add(b, "<td>", 4);
			web_esc(b, web_str(c, "check"));
			evbuffer_add_printf(b, "</td><td class=\"%s\">",
			    json_is_true(json_object_get(c, "down")) ?
			    "down" : "up");
			web_esc(b, web_str(c, "result"));
			if (web_str(c, "detail") != NULL &&
			    *web_str(c, "detail") != '\0') {
				evbuffer_add(b, ": ", 2);
				web_esc(b, web_str(c, "detail"));
			}
			evbuffer_add(b, " <small>", 8);
			web_time(b, web_str(c, "at"));
			evbuffer_add(b, "</small></td><td>", 17);
			if (json_is_integer(json_object_get(c, "rtt_ms")))
				evbuffer_add_printf(b, "%s ms", web_val(c,
				    "rtt_ms", num, sizeof(num)));
			evbuffer_add(b, "</td></tr>", 10);
		}
	}
	evbuffer_add(b, "</tbody></table>", 16);
}

/* The database refusing writes: what is seen is held, not recorded. */
static void
web_status_store(struct evbuffer *b, const json_t *store, int en)
{
	char	 num[32];

	if (!json_is_true(json_object_get(store, "failing")))
		return;
	evbuffer_add_printf(b, "<p id=\"store-failing\" class=\"down\">%s ",
	    WEB_T(en, "資料庫寫入失敗，自", "store failing (資料庫寫入失敗) "
	    "since"));
	web_time(b, web_str(store, "since"));
	evbuffer_add_printf(b, "%s", WEB_T(en, "起；暫存於記憶體之變更：",
	    ": changes held in memory: "));
	web_esc(b, web_val(store, "held", num, sizeof(num)));
	if (web_str(store, "error") != NULL) {
		evbuffer_add(b, " (", 2);
		web_esc(b, web_str(store, "error"));
		evbuffer_add(b, ")", 1);
	}
	evbuffer_add(b, "</p>", 4);
}

static const char *
web_clock_name(const char *kind, int en)
{
	static const struct { const char *k, *zh, *en; } names[] = {
		{ "notify", "通報（1小時內）", "notification (通報)" },
		{ "restore", "復原或損害管制", "restore (復原)" },
		{ "report", "調查、處理及改善報告", "investigation report "
		  "(調查報告)" },
		{ "close", "結案", "closure (結案)" },
	};
	size_t	 i;

	for (i = 0; kind != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].k, kind) == 0)
			return en ? names[i].en : names[i].zh;
	return kind != NULL ? kind : "";
}

static void
web_status_deadlines(struct evbuffer *b, const json_t *open, int en)
{
	const json_t	*d;
	size_t		 i;
	char		 num[32];
	const char	*l = en ? "&amp;lang=en" : "";

	evbuffer_add_printf(b, "<h2>%s</h2>", WEB_T(en, "處理中事件與期限",
	    "open incidents and their clocks (處理中事件)"));
	if (json_array_size(open) == 0) {
		evbuffer_add_printf(b, "<p id=\"no-deadlines\">%s</p>",
		    WEB_T(en, "無", "none"));
		return;
	}
	evbuffer_add_printf(b, "<table id=\"deadlines\"><thead><tr><th>%s"
	    "</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
	    "</tr></thead><tbody>", WEB_T(en, "事件", "incident"),
	    WEB_T(en, "系統", "system"), WEB_T(en, "期限", "clock"),
	    WEB_T(en, "等級", "level"), WEB_T(en, "到期時間", "due"),
	    WEB_T(en, "剩餘", "left"));
	json_array_foreach(open, i, d) {
		const char	*inc = web_val(d, "incident", num, sizeof(num));

		evbuffer_add_printf(b, "<tr class=\"deadline\"><td><a href="
		    "\"/incident?id=%s%s\">%s</a>%s</td><td>", inc, l, inc,
		    json_is_true(json_object_get(d, "drill")) ||
		    json_integer_value(json_object_get(d, "drill")) != 0 ?
		    WEB_T(en, "（演練）", " (drill)") : "");
		web_esc(b, web_str(d, "system"));
		evbuffer_add_printf(b, "</td><td>%s</td><td>", web_clock_name(
		    web_str(d, "kind"), en));
		web_esc(b, web_val(d, "level", num, sizeof(num)));
		evbuffer_add(b, "</td><td>", 9);
		web_time(b, web_str(d, "due_at"));
		evbuffer_add(b, "</td><td class=\"due\" data-due=\"", 31);
		web_esc(b, web_str(d, "due_at"));
		evbuffer_add(b, "\"></td></tr>", 12);
	}
	evbuffer_add(b, "</tbody></table>", 16);
}

static void
web_status_maint(struct evbuffer *b, const json_t *systems, int en)
{
	const json_t	*s;
	size_t		 i;
	int		 n = 0;

	evbuffer_add_printf(b, "<h2>%s</h2><ul id=\"maintenance\">",
	    WEB_T(en, "維護時段", "maintenance windows (維護時段)"));
	json_array_foreach(systems, i, s) {
		if (strcmp(web_str(s, "state"), "maintenance") != 0)
			continue;
		evbuffer_add(b, "<li>", 4);
		web_esc(b, web_str(s, "name"));
		evbuffer_add_printf(b, ": %s</li>", WEB_T(en, "維護中",
		    "in maintenance now"));
		n++;
	}
	if (n == 0)
		evbuffer_add_printf(b, "<li>%s</li>", WEB_T(en,
		    "目前無系統在維護時段中", "no system is in a maintenance "
		    "window now"));
	evbuffer_add(b, "</ul>", 5);
}

static void
web_status_traffic(struct evbuffer *b, const json_t *traffic, int en)
{
	const json_t	*t;
	size_t		 i;
	char		 num[32];

	evbuffer_add_printf(b, "<h2>%s</h2>", WEB_T(en, "流量異常偵測",
	    "anomaly blocks (流量異常偵測)"));
	if (json_array_size(traffic) == 0) {
		evbuffer_add_printf(b, "<p>%s</p>", WEB_T(en, "無",
		    "none configured"));
		return;
	}
	evbuffer_add_printf(b, "<table id=\"traffic\"><thead><tr><th>%s</th>"
	    "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
	    "<tbody>", WEB_T(en, "名稱", "block"), WEB_T(en, "介面",
	    "interface"), WEB_T(en, "擷取中", "capturing"), WEB_T(en,
	    "封包/秒", "packets/s"), WEB_T(en, "進行中事件", "open episodes"));
	json_array_foreach(traffic, i, t) {
		const char	*err = web_str(t, "error");

		evbuffer_add(b, "<tr><td>", 8);
		web_esc(b, web_str(t, "name"));
		evbuffer_add(b, "</td><td>", 9);
		web_esc(b, web_str(t, "interface"));
		evbuffer_add_printf(b, "</td><td class=\"%s\">%s", err == NULL ?
		    "up" : "down", err == NULL ? WEB_T(en, "是", "yes") :
		    WEB_T(en, "否：", "no: "));
		web_esc(b, err);
		evbuffer_add(b, "</td><td>", 9);
		web_esc(b, web_val(t, "packets_per_s", num, sizeof(num)));
		evbuffer_add(b, "</td><td>", 9);
		web_esc(b, web_val(t, "open_episodes", num, sizeof(num)));
		evbuffer_add(b, "</td></tr>", 10);
	}
	evbuffer_add(b, "</tbody></table>", 16);
}

/*
 * The systems node N sees down (its latest views, issue 21), each with
 * since when: "portal (since 10:02:03), mail (since ...)".
 */
static void
web_status_views(struct evbuffer *b, const json_t *n)
{
	const json_t	*v;
	size_t		 i;
	char		*local;
	int		 any = 0;

	json_array_foreach(json_object_get(n, "views"), i, v) {
		if (web_str(v, "state") == NULL ||
		    strcmp(web_str(v, "state"), "down") != 0)
			continue;
		if (any++)
			evbuffer_add(b, ", ", 2);
		evbuffer_add(b, "<span class=\"down\" title=\"", 26);
		web_esc(b, web_str(v, "cause"));
		evbuffer_add(b, "\">", 2);
		web_esc(b, web_str(v, "system"));
		evbuffer_add(b, "</span>", 7);
		if (web_str(v, "since") != NULL) {
			local = time_text_local(web_str(v, "since"), 1);
			evbuffer_add(b, " (", 2);
			web_esc(b, local);
			evbuffer_add(b, ")", 1);
			free(local);
		}
	}
	if (!any)
		evbuffer_add(b, "-", 1);
}

/*
 * The nodes sharing the register (lead.c), as rtowatch status shows
 * them: one row on SQLite, every node on a shared PostgreSQL register.
 */
static void
web_status_nodes(struct evbuffer *b, const json_t *st, int en)
{
	const json_t	*n;
	size_t		 i;
	char		*local;

	evbuffer_add_printf(b, "<h2>%s</h2><table id=\"nodes\"><thead><tr>"
	    "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
	    "<tbody>", WEB_T(en, "節點", "nodes (節點)"),
	    WEB_T(en, "名稱", "node"), WEB_T(en, "角色", "role"),
	    WEB_T(en, "最後聯繫", "last contact"),
	    WEB_T(en, "視為中斷", "sees down"));
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		evbuffer_add(b, "<tr><td>", 8);
		web_esc(b, web_str(n, "name"));
		evbuffer_add_printf(b, "</td><td class=\"%s\">",
		    json_integer_value(json_object_get(n, "silent_ms")) >
		    10000 ? "down" : "up");
		web_esc(b, web_str(n, "role"));
		evbuffer_add(b, "</td><td>", 9);
		if (web_str(n, "last_contact") != NULL) {
			local = time_text_local(web_str(n, "last_contact"), 1);
			web_esc(b, local);
			free(local);
		}
		evbuffer_add(b, "</td><td>", 9);
		web_status_views(b, n);
		evbuffer_add(b, "</td></tr>", 10);
	}
	evbuffer_add(b, "</tbody></table>", 16);
}

/*
 * The 24-hour response-time chart per check, drawn here as SVG from
 * GET /v1/history: 96 slots of a quarter of an hour, each a bar from the
 * least to the greatest round trip of its good probes, a line through
 * their means, and a red mark under the slot when a probe failed in it,
 * taller the more of them did.  A few kB a check and nothing to fetch.
 */
#define WEB_RTT_X0	36.0		/* the plot's left, in the viewBox */
#define WEB_RTT_W	360.0
#define WEB_RTT_Y0	6.0		/* its top */
#define WEB_RTT_H	80.0
#define WEB_RTT_FAIL	98.0		/* the failures' baseline */

static void	web_chunk(struct evhttp_request *, const void *, size_t);

/* The least of 1, 2, 5 times a power of ten that is at least V. */
static int64_t
web_rtt_scale(int64_t v)
{
	int64_t	 p = 1;

	for (;;) {
		if (v <= p)
			return p;
		if (v <= 2 * p)
			return 2 * p;
		if (v <= 5 * p)
			return 5 * p;
		if (p > INT64_MAX / 10)
			return v;
		p *= 10;
	}
}

static double
web_rtt_y(int64_t v, int64_t top)
{
	return WEB_RTT_Y0 + WEB_RTT_H - (double)v * WEB_RTT_H / (double)top;
}

/* One check's chart from ROWS, its slots oldest first; NULL: not read. */
static void
web_rtt_svg(struct evbuffer *b, const json_t *rows, const char *system,
    const char *check, int64_t from, int64_t slot, int en)
{
	const json_t	*r;
	struct evbuffer	*band, *avg, *fail;
	size_t		 i;
	int64_t		 top = 1, k, prev = -2, ok, failed;
	double		 sw = WEB_RTT_W / 96.0, x;

	json_array_foreach(rows, i, r)
		if (json_integer_value(json_object_get(r, "rtt_max")) > top)
			top = json_integer_value(json_object_get(r, "rtt_max"));
	top = web_rtt_scale(top);
	if ((band = evbuffer_new()) == NULL || (avg = evbuffer_new()) ==
	    NULL || (fail = evbuffer_new()) == NULL)
		fatalx("web: evbuffer_new");
	json_array_foreach(rows, i, r) {
		k = (json_integer_value(json_object_get(r, "at")) - from) / slot;
		if (k < 0 || k > 95)
			continue;
		x = WEB_RTT_X0 + ((double)k + 0.5) * sw;
		ok = json_integer_value(json_object_get(r, "ok"));
		failed = json_integer_value(json_object_get(r, "failed"));
		if (ok > 0) {
			evbuffer_add_printf(band, "M%.1f %.1fV%.1f", x,
			    web_rtt_y(json_integer_value(json_object_get(r,
			    "rtt_max")), top), web_rtt_y(json_integer_value(
			    json_object_get(r, "rtt_min")), top));
			evbuffer_add_printf(avg, "%c%.1f %.1f", k == prev + 1 ?
			    'L' : 'M', x, web_rtt_y(json_integer_value(
			    json_object_get(r, "rtt_avg")), top));
			prev = k;
		}
		if (failed > 0)
			evbuffer_add_printf(fail, "M%.1f %.0fV%.1f", x,
			    WEB_RTT_FAIL, WEB_RTT_FAIL - 2.0 - 6.0 *
			    (double)failed / (double)(ok + failed));
	}
	evbuffer_add(b, "<figure class=\"rtt\"><figcaption>", 32);
	web_esc(b, system);
	evbuffer_add(b, " · ", 4);
	web_esc(b, check);
	evbuffer_add_printf(b, "</figcaption><svg viewBox=\"0 0 400 112\" "
	    "role=\"img\" data-from=\"%lld\" data-slot=\"%lld\" data-system=\"",
	    (long long)from, (long long)slot);
	web_esc(b, system);
	evbuffer_add(b, "\" data-check=\"", 14);
	web_esc(b, check);
	evbuffer_add(b, "\"><title>", 9);
	web_esc(b, system);
	evbuffer_add_printf(b, " · %s</title>", WEB_T(en, "24 小時回應時間（最小"
	    "／平均／最大，紅色為失敗）", "response time over 24 hours (min, "
	    "mean, max; red: failures)"));
	evbuffer_add_printf(b, "<path class=\"grid\" d=\"M%.0f %.0fH%.0fM%.0f "
	    "%.0fH%.0f\"/><text x=\"32\" y=\"%.0f\" text-anchor=\"end\">"
	    "%lld ms</text><text x=\"32\" y=\"%.0f\" text-anchor=\"end\">0"
	    "</text>", WEB_RTT_X0, WEB_RTT_Y0, WEB_RTT_X0 + WEB_RTT_W,
	    WEB_RTT_X0, WEB_RTT_Y0 + WEB_RTT_H, WEB_RTT_X0 + WEB_RTT_W,
	    WEB_RTT_Y0 + 8, (long long)top, WEB_RTT_Y0 + WEB_RTT_H);
	evbuffer_add_printf(b, "<text x=\"%.0f\" y=\"110\">-24h</text>"
	    "<text x=\"%.0f\" y=\"110\" text-anchor=\"middle\">-12h</text>"
	    "<text x=\"%.0f\" y=\"110\" text-anchor=\"end\">%s</text>",
	    WEB_RTT_X0, WEB_RTT_X0 + WEB_RTT_W / 2, WEB_RTT_X0 + WEB_RTT_W,
	    WEB_T(en, "現在", "now"));
	if (evbuffer_get_length(band) + evbuffer_get_length(fail) == 0)
		evbuffer_add_printf(b, "<text class=\"%s\" x=\"%.0f\" "
		    "y=\"50\" text-anchor=\"middle\">%s</text>", rows == NULL ?
		    "none wait" : "none", WEB_RTT_X0 + WEB_RTT_W /
		    2, rows == NULL ? WEB_T(en, "讀取中", "being read") :
		    WEB_T(en, "尚無紀錄", "no history yet"));
	evbuffer_add_printf(b, "<path class=\"band\" stroke-width=\"%.1f\" "
	    "d=\"", sw * 0.8);
	evbuffer_add_buffer(b, band);
	evbuffer_add(b, "\"/><path class=\"avg\" d=\"", 24);
	evbuffer_add_buffer(b, avg);
	evbuffer_add_printf(b, "\"/><path class=\"fail\" stroke-width=\"%.1f\" "
	    "d=\"", sw * 0.8);
	evbuffer_add_buffer(b, fail);
	evbuffer_add(b, "\"/></svg></figure>", 18);
	evbuffer_free(band);
	evbuffer_free(avg);
	evbuffer_free(fail);
}

#define WEB_RTT_FRESH_S	10	/* the history read again after, s */
#define WEB_RTT_AGAIN_S	300	/* from this long before the last read */
#define WEB_RTT_FILL	8	/* systems read whole in one loop turn */
#define WEB_RTT_STALE_S	3600	/* not read for this long: read anew */

/*
 * SYSTEM's history into w->rtt, whole; or, SYSTEM NULL, the slots from
 * SINCE (Unix s) of every system read already, which replace those the
 * cache had: one query for all of them, a few rows a check.
 */
static int
web_rtt_read(struct web *w, const char *system, int64_t since)
{
	json_t		*r, *entry, *checks, *arr, *row;
	const char	*check, *name;
	char		*q, *enc;
	size_t		 i;
	int		 status;
	int64_t		 cut;

	if (system != NULL) {
		if ((enc = evhttp_encode_uri(system)) == NULL)
			return -1;
		xasprintf(&q, "hours=24&system=%s", enc);
		free(enc);
	} else
		xasprintf(&q, "hours=24&since=%lld", (long long)since);
	r = control_read(w->control, "/v1/history", q, &status);
	free(q);
	if (r == NULL || status != 200) {
		json_decref(r);
		return -1;
	}
	w->rtt_from = json_integer_value(json_object_get(r, "from"));
	w->rtt_slot = json_integer_value(json_object_get(r, "slot"));
	if (w->rtt_slot <= 0)
		w->rtt_slot = 900;
	if (system != NULL)
		json_object_set_new(w->rtt, system, json_object());
	else {
		/* What the reply has again, and what left the day, goes. */
		cut = since / w->rtt_slot * w->rtt_slot;
		json_object_foreach(w->rtt, name, checks)
			json_object_foreach(checks, check, arr) {
				while (json_array_size(arr) > 0 &&
				    json_integer_value(json_object_get(
				    json_array_get(arr, json_array_size(arr) -
				    1), "at")) >= cut)
					json_array_remove(arr,
					    json_array_size(arr) - 1);
				while (json_array_size(arr) > 0 &&
				    json_integer_value(json_object_get(
				    json_array_get(arr, 0), "at")) < w->rtt_from)
					json_array_remove(arr, 0);
			}
	}
	json_array_foreach(json_object_get(r, "history"), i, row) {
		/* A system not read whole yet waits for its turn. */
		if ((entry = json_object_get(w->rtt, web_str(row,
		    "system"))) == NULL)
			continue;
		check = web_str(row, "check");
		if ((arr = json_object_get(entry, check)) == NULL) {
			arr = json_array();
			json_object_set_new(entry, check, arr);
		}
		json_array_append(arr, row);
	}
	if (w->rtt_read == 0)
		w->rtt_read = wall_ms() / 1000;
	json_decref(r);
	return 0;
}

/*
 * Systems not read yet, WEB_RTT_FILL a loop turn, so that the first
 * view of a thousand checks does not hold the loop for the whole day of
 * them; the pages following /events redraw when all are in.
 */
static void
web_rtt_fill_cb(evutil_socket_t fd, short events, void *arg)
{
	struct web		*w = arg;
	struct web_client	*cl;
	const char		*system;
	int			 n;

	(void)fd;
	(void)events;
	for (n = 0; n < WEB_RTT_FILL && json_array_size(w->rtt_todo) > 0;
	    n++) {
		system = json_string_value(json_array_get(w->rtt_todo, 0));
		if (system != NULL && json_object_get(w->rtt, system) == NULL)
			(void)web_rtt_read(w, system, 0);
		json_array_remove(w->rtt_todo, 0);
	}
	if (json_array_size(w->rtt_todo) > 0) {
		event_active(w->rtt_fill, EV_TIMEOUT, 0);
		return;
	}
	TAILQ_FOREACH(cl, &w->clients, entry)
		web_chunk(cl->req, "event: history\ndata: 1\n\n", 24);
}

/* SYSTEM's checks' rows; NULL: read in a later turn. */
static const json_t *
web_rtt_checks(struct web *w, const char *system, int *budget)
{
	size_t	 i;

	if (json_object_get(w->rtt, system) != NULL)
		return json_object_get(w->rtt, system);
	if (*budget > 0) {
		(*budget)--;
		(void)web_rtt_read(w, system, 0);
	} else {
		for (i = 0; i < json_array_size(w->rtt_todo); i++)
			if (strcmp(json_string_value(json_array_get(
			    w->rtt_todo, i)), system) == 0)
				break;
		if (i == json_array_size(w->rtt_todo))
			json_array_append_new(w->rtt_todo, json_string(system));
		event_active(w->rtt_fill, EV_TIMEOUT, 0);
	}
	return json_object_get(w->rtt, system);
}

static void
web_rtt_chart(struct web *w, struct evbuffer *b, const json_t *systems,
    int en)
{
	const json_t	*s, *c, *checks, *rows;
	json_t		*none;
	size_t		 i, j;
	int		 budget = WEB_RTT_FILL;
	int64_t		 now = wall_ms() / 1000;

	evbuffer_add_printf(b, "<h2>%s</h2>", WEB_T(en, "24 小時回應時間",
	    "response time, last 24 hours (24 小時回應時間)"));
	/*
	 * Systems a reload took away: their rows go, once in a while.  So
	 * does all of it when nobody looked for a long time: read again a
	 * few systems a turn, not in one query of every system's day.
	 */
	if (json_object_size(w->rtt) > 2 * json_array_size(systems) + 16 ||
	    (w->rtt_read != 0 && now - w->rtt_read > WEB_RTT_STALE_S)) {
		json_object_clear(w->rtt);
		w->rtt_read = 0;
	}
	if (w->rtt_read != 0 && now - w->rtt_read >= WEB_RTT_FRESH_S &&
	    web_rtt_read(w, NULL, w->rtt_read - WEB_RTT_AGAIN_S) == 0)
		w->rtt_read = now;
	if ((none = json_array()) == NULL)
		fatalx("web: json_array");
	evbuffer_add(b, "<div id=\"rtt\">", 14);
	json_array_foreach(systems, i, s) {
		checks = web_rtt_checks(w, web_str(s, "name"), &budget);
		json_array_foreach(json_object_get(s, "checks"), j, c) {
			rows = json_object_get(checks, web_str(c, "check"));
			web_rtt_svg(b, checks == NULL ? NULL : rows != NULL ?
			    rows : none, web_str(s, "name"), web_str(c,
			    "check"), w->rtt_from, w->rtt_slot, en);
		}
	}
	evbuffer_add(b, "</div>", 6);
	json_decref(none);
}

/* The status page's main part, which the page redraws on each event. */
static int
web_status_part(struct web *w, struct evbuffer *b, int en)
{
	json_t	*st;
	int	 status;
	char	 now[TIME_STRLEN], *local;

	if ((st = control_read(w->control, "/v1/status", NULL,
	    &status)) == NULL || status != 200) {
		json_decref(st);
		return -1;
	}
	evbuffer_add_printf(b, "<p>%s <time id=\"now\">", WEB_T(en,
	    "更新時間", "as of"));
	local = time_text_local(time_fmt(wall_ms(), now, sizeof(now)), 1);
	web_esc(b, local);
	free(local);
	evbuffer_add(b, "</time></p>", 11);
	web_status_store(b, json_object_get(st, "store"), en);
	web_status_deadlines(b, json_object_get(st, "deadlines"), en);
	web_status_systems(b, json_object_get(st, "systems"), en);
	web_rtt_chart(w, b, json_object_get(st, "systems"), en);
	web_status_maint(b, json_object_get(st, "systems"), en);
	web_status_traffic(b, json_object_get(st, "traffic"), en);
	web_status_nodes(b, st, en);
	json_decref(st);
	return 0;
}

static void
web_status(struct web *w, struct evhttp_request *req,
    const struct web_who *who, int en, int part)
{
	struct evbuffer	*b = evbuffer_new();

	if (b == NULL)
		fatalx("web: evbuffer_new");
	if (!part) {
		web_begin(b, en, WEB_T(en, "監測狀態", "status (監測狀態)"),
		    who);
		evbuffer_add(b, "<div id=\"status\">", 17);
	}
	if (web_status_part(w, b, en) == -1) {
		evbuffer_free(b);
		web_error(req, 500, en, "cannot read the status");
		return;
	}
	if (!part) {
		evbuffer_add(b, "</div>", 6);
		web_end(b);
	}
	web_html(req, 200, b);
}

/* /public: the named systems, up or down, and nothing else. */
static void
web_public(struct web *w, struct evhttp_request *req, int en)
{
	struct evbuffer	*b;
	json_t		*st;
	const json_t	*s;
	size_t		 i;
	int		 status, k;

	if (w->cf.npublic == 0) {
		web_error(req, 404, en, "no public status page (set web public)");
		return;
	}
	if ((st = control_read(w->control, "/v1/status", NULL,
	    &status)) == NULL || status != 200) {
		json_decref(st);
		web_error(req, 500, en, "cannot read the status");
		return;
	}
	if ((b = evbuffer_new()) == NULL)
		fatalx("web: evbuffer_new");
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width="
	    "device-width,initial-scale=1\"><title>%s</title><style>%s"
	    "</style></head><body><main><h1>%s</h1><table id=\"public\">",
	    en ? "en" : "zh-Hant-TW", WEB_T(en, "服務狀態", "service status"),
	    web_css, WEB_T(en, "服務狀態", "service status (服務狀態)"));
	json_array_foreach(json_object_get(st, "systems"), i, s) {
		const char	*state = web_str(s, "state");

		for (k = 0; k < w->cf.npublic; k++)
			if (strcmp(w->cf.public[k], web_str(s, "name")) == 0)
				break;
		if (k == w->cf.npublic)
			continue;
		/* Down or up; maintenance and unknown are not details. */
		evbuffer_add(b, "<tr><td>", 8);
		web_esc(b, web_str(s, "name"));
		evbuffer_add_printf(b, "</td><td class=\"%s\">%s</td></tr>",
		    strcmp(state, "down") == 0 ? "down" : "up",
		    strcmp(state, "down") == 0 ? WEB_T(en, "中斷", "down") :
		    WEB_T(en, "正常", "up"));
	}
	evbuffer_add(b, "</table></main></body></html>\n", 30);
	json_decref(st);
	web_html(req, 200, b);
}

static void
web_warnings(struct web *w, struct evhttp_request *req,
    const struct web_who *who, int en)
{
	static const struct {
		const char	*member, *zh, *en;
	} cols[] = {
		{ "id", "編號", "no." }, { "state", "狀態", "state" },
		{ "source", "來源", "source" }, { "system", "系統", "system" },
		{ "summary", "摘要", "summary" },
		{ "opened_at", "發生時間", "opened" },
		{ "answered_by", "研判人員", "answered by" },
		{ "incident_id", "事件編號", "incident" },
	};
	struct evbuffer	*b;
	json_t		*r;
	const json_t	*row;
	size_t		 i, j;
	int		 status;
	char		 num[32];

	if ((r = control_read(w->control, "/v1/warnings", NULL,
	    &status)) == NULL || status != 200) {
		json_decref(r);
		web_error(req, 500, en, "cannot read the warnings");
		return;
	}
	if ((b = evbuffer_new()) == NULL)
		fatalx("web: evbuffer_new");
	web_begin(b, en, WEB_T(en, "資安預警事件", "early warnings "
	    "(資安預警事件)"), who);
	evbuffer_add(b, "<table id=\"warnings\"><thead><tr>", 32);
	for (j = 0; j < sizeof(cols) / sizeof(cols[0]); j++)
		evbuffer_add_printf(b, "<th>%s</th>", en ? cols[j].en :
		    cols[j].zh);
	evbuffer_add(b, "</tr></thead><tbody>", 20);
	json_array_foreach(json_object_get(r, "warnings"), i, row) {
		evbuffer_add(b, "<tr>", 4);
		for (j = 0; j < sizeof(cols) / sizeof(cols[0]); j++) {
			evbuffer_add(b, "<td>", 4);
			if (strcmp(cols[j].member, "opened_at") == 0)
				web_time(b, web_str(row, cols[j].member));
			else
				web_esc(b, web_val(row, cols[j].member, num,
				    sizeof(num)));
			evbuffer_add(b, "</td>", 5);
		}
		evbuffer_add(b, "</tr>", 5);
	}
	evbuffer_add(b, "</tbody></table>", 16);
	web_end(b);
	json_decref(r);
	web_html(req, 200, b);
}

/* ------------------------------------------------------------ jobs */

static void
web_job_free(struct web_job *j)
{
	int	 st;

	TAILQ_REMOVE(&j->web->jobs, j, entry);
	j->web->njobs--;
	if (j->evcon != NULL)
		evhttp_connection_set_closecb(j->evcon, NULL, NULL);
	if (j->pid > 0) {
		kill(j->pid, SIGKILL);
		/* Killed or finished: reaped at once. */
		(void)waitpid(j->pid, &st, 0);
	}
	bufferevent_free(j->out);
	evbuffer_free(j->buf);
	event_free(j->timer);
	event_free(j->reap);
	evbuffer_free(j->filter);
	free(j);
}

static void
web_job_gone_cb(struct evhttp_connection *evcon, void *arg)
{
	struct web_job	*j = arg;

	(void)evcon;
	/* As web_signin_gone_cb: a request let go of is ours to finish. */
	if (evhttp_request_get_connection(j->req) != NULL)
		j->req = NULL;
	j->evcon = NULL;
}

/* The CLI's CSV of availability as a table and a bar per system. */
static void
web_avail_draw(struct evbuffer *b, struct evbuffer *csv, int en)
{
	char	*line, *f[10], *p;
	size_t	 len;
	int	 row = 0, n, k;
	double	 pct;
	struct evbuffer	*svg = evbuffer_new();

	if (svg == NULL)
		fatalx("web: evbuffer_new");
	evbuffer_add(b, "<table id=\"availability\">", 25);
	while ((line = evbuffer_readln(csv, &len,
	    EVBUFFER_EOL_CRLF)) != NULL) {
		for (n = 0, p = line; n < 10 && p != NULL; n++)
			f[n] = strsep(&p, ",");
		evbuffer_add_printf(b, "<tr>");
		for (k = 0; k < n; k++) {
			evbuffer_add_printf(b, row == 0 ? "<th>" : "<td>");
			web_esc(b, f[k]);
			evbuffer_add_printf(b, row == 0 ? "</th>" : "</td>");
		}
		evbuffer_add_printf(b, "</tr>");
		/* The system's name, then its uptime in per cent. */
		if (row > 0 && n >= 2 && (pct = strtod(f[1], NULL)) >= 0 &&
		    pct <= 100) {
			evbuffer_add_printf(svg, "<text x=\"0\" y=\"%d\" "
			    "font-size=\"12\">", 20 * row - 6);
			web_esc(svg, f[0]);
			evbuffer_add_printf(svg, "</text><rect x=\"160\" "
			    "y=\"%d\" width=\"%.1f\" height=\"14\" fill=\"%s\">"
			    "<title>%.3f%%</title></rect><text x=\"%.1f\" "
			    "y=\"%d\" font-size=\"12\">%.3f%%</text>",
			    20 * row - 18, pct * 3, pct >= 99.9 ? "#2a9d8f" :
			    "#e76f51", pct, 165 + pct * 3, 20 * row - 6, pct);
		}
		row++;
		free(line);
	}
	evbuffer_add(b, "</table>", 8);
	evbuffer_add_printf(b, "<svg id=\"avail-chart\" role=\"img\" "
	    "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 540 %d\" "
	    "width=\"100%%\" style=\"max-width:540px\"><title>%s</title>",
	    20 * row + 4, WEB_T(en, "可用性", "availability (可用性)"));
	evbuffer_add_buffer(b, svg);
	evbuffer_add(b, "</svg>", 6);
	evbuffer_free(svg);
}

/*
 * The CLI's form with a way back to the other pages, after its <body ...>:
 * hidden when printed, so the printed form is the CLI's own.
 */
static void
web_form_nav(struct web_job *j)
{
	struct evbuffer		*b;
	struct evbuffer_ptr	 at;
	const char		*l = j->en ? "?lang=en" : "";

	at = evbuffer_search(j->buf, "<body", 5, NULL);
	if (at.pos == -1)
		return;
	at = evbuffer_search(j->buf, ">", 1, &at);
	if (at.pos == -1 || (b = evbuffer_new()) == NULL)
		return;
	evbuffer_remove_buffer(j->buf, b, (size_t)at.pos + 1);
	evbuffer_add_printf(b, "<style>@media print{nav.web{display:none}}"
	    "</style><nav class=\"web\" style=\"font-family:sans-serif;"
	    "margin:0 0 1em\"><a href=\"/%s\">%s</a> · <a href=\"/register%s"
	    "\">%s</a> · <a href=\"/warnings%s\">%s</a></nav>", l,
	    WEB_T(j->en, "監測狀態", "status (監測狀態)"), l,
	    WEB_T(j->en, "登記簿", "register (登記簿)"), l,
	    WEB_T(j->en, "資安預警事件", "warnings (資安預警事件)"));
	evbuffer_add_buffer(b, j->filter);
	evbuffer_add_buffer(b, j->buf);
	evbuffer_add_buffer(j->buf, b);
	evbuffer_free(b);
}

/* The child ended: its output becomes the page. */
static void
web_job_done(struct web_job *j, int st)
{
	struct evbuffer	*b;
	int		 ok;

	ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (j->req == NULL) {
		web_job_free(j);
		return;
	}
	if (!ok) {
		/* The CLI's own message is on its stderr, in the journal. */
		web_error(j->req, 400, j->en, j->kind == WEB_JOB_AVAIL ?
		    "availability: --from and --to are dates (YYYY-MM-DD)" :
		    "rtowatch could not make this page (see the journal)");
	} else if (j->kind == WEB_JOB_FORM) {
		web_form_nav(j);
		web_send(j->req, 200, "text/html; charset=utf-8", j->buf);
	} else {
		if ((b = evbuffer_new()) == NULL)
			fatalx("web: evbuffer_new");
		web_begin(b, j->en, j->title, NULL);
		evbuffer_add_buffer(b, j->filter);
		web_avail_draw(b, j->buf, j->en);
		web_end(b);
		web_html(j->req, 200, b);
	}
	web_job_free(j);
}

/*
 * Its output ended: the child exits right after, but the loop does not
 * wait for it; it looks again every few milliseconds until it has.
 */
static void
web_job_reap_cb(evutil_socket_t fd, short events, void *arg)
{
	struct web_job	*j = arg;
	struct timeval	 tv = { 0, 5000 };
	int		 st = 0;

	(void)fd;
	(void)events;
	if (waitpid(j->pid, &st, WNOHANG) == j->pid) {
		j->pid = 0;
		web_job_done(j, st);
	} else
		evtimer_add(j->reap, &tv);
}

static void
web_job_read_cb(struct bufferevent *bev, void *arg)
{
	struct web_job	*j = arg;

	evbuffer_add_buffer(j->buf, bufferevent_get_input(bev));
	if (evbuffer_get_length(j->buf) > WEB_JOB_MAX_BYTES) {
		if (j->req != NULL)
			web_error(j->req, 500, j->en, "page too large");
		web_job_free(j);
	}
}

static void
web_job_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct web_job	*j = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		bufferevent_disable(bev, EV_READ);
		web_job_reap_cb(-1, 0, j);
	}
}

static void
web_job_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct web_job	*j = arg;

	(void)fd;
	(void)events;
	log_warnx("web: rtowatch took over %d s to make a page; stopped",
	    WEB_JOB_TIMEOUT_S);
	if (j->req != NULL)
		web_error(j->req, 504, j->en, "timed out");
	web_job_free(j);
}

/*
 * Run rtowatch --db DATABASE ARGV... and answer REQ with what it writes.
 * Its stdin is /dev/null and its stderr the daemon's.
 */
static void
web_job(struct web *w, struct evhttp_request *req, int en, int kind,
    const char *title, const char *const *argv, struct evbuffer *filter)
{
	posix_spawn_file_actions_t	 fa;
	struct timeval			 tv = { WEB_JOB_TIMEOUT_S, 0 };
	struct web_job			*j;
	char				*args[32];
	int				 fds[2], i, n = 0;
	pid_t				 pid;

	/* No CLI to run (web_set_cli(w, NULL), the fuzzer's): no form. */
	if (w->cli == NULL) {
		evbuffer_free(filter);
		web_error(req, 503, en, "the printed forms are off here");
		return;
	}
	if (w->njobs >= WEB_MAX_JOBS) {
		evbuffer_free(filter);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "2");
		web_error(req, 503, en, "busy; try again in a moment");
		return;
	}
	/* posix_spawn wants them writable: copies. */
	args[n++] = xstrdup(w->cli);
	args[n++] = xstrdup("--db");
	args[n++] = xstrdup(w->database);
	for (i = 0; argv[i] != NULL && n < 30; i++)
		args[n++] = xstrdup(argv[i]);
	args[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		while (n-- > 0)
			free(args[n]);
		evbuffer_free(filter);
		log_warn("web: pipe");
		web_error(req, 500, en, "cannot run rtowatch");
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	i = posix_spawn(&pid, w->cli, &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	while (n-- > 0)
		free(args[n]);
	if (i != 0) {
		errno = i;
		log_warn("web: %s", w->cli);
		evbuffer_free(filter);
		close(fds[0]);
		web_error(req, 500, en, "cannot run rtowatch");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->web = w;
	j->req = req;
	j->pid = pid;
	j->en = en;
	j->kind = kind;
	snprintf(j->title, sizeof(j->title), "%s", title);
	j->filter = filter;
	evutil_make_socket_nonblocking(fds[0]);
	if ((j->out = bufferevent_socket_new(w->base, fds[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    (j->buf = evbuffer_new()) == NULL ||
	    (j->timer = evtimer_new(w->base, web_job_timeout_cb, j)) == NULL ||
	    (j->reap = evtimer_new(w->base, web_job_reap_cb, j)) == NULL)
		fatalx("web: cannot follow rtowatch");
	bufferevent_setcb(j->out, web_job_read_cb, NULL, web_job_event_cb, j);
	bufferevent_enable(j->out, EV_READ);
	evtimer_add(j->timer, &tv);
	if ((j->evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_set_closecb(j->evcon, web_job_gone_cb, j);
	TAILQ_INSERT_TAIL(&w->jobs, j, entry);
	w->njobs++;
}

/* A query parameter that may become a CLI argument: plain text only. */
static const char *
web_arg(const struct evkeyvalq *q, const char *name)
{
	const char	*v = evhttp_find_header(q, name);
	const char	*p;

	if (v == NULL || *v == '\0' || *v == '-' || strlen(v) > 64)
		return NULL;
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			return NULL;
	return v;
}

/*
 * The filters of WHAT's page as a GET form, filled with what was asked:
 * a form that reads, never a POST.  Hidden when printed.
 */
static struct evbuffer *
web_filter(const char *what, const struct evkeyvalq *q, int en)
{
	static const struct {
		const char	*page, *name, *zh, *en, *hint;
	} fields[] = {
		{ "register", "from", "起", "from", "YYYY-MM-DD" },
		{ "register", "to", "迄", "to", "YYYY-MM-DD" },
		{ "register", "system", "系統", "system", "" },
		{ "register", "kind", "類型", "kind", "outage" },
		{ "availability", "from", "起", "from", "YYYY-MM-DD" },
		{ "availability", "to", "迄", "to", "YYYY-MM-DD" },
		{ "availability", "system", "系統", "system", "" },
		{ "digest", "month", "月份", "month", "YYYY-MM" },
	};
	struct evbuffer	*b;
	size_t		 i;
	int		 n = 0;

	if ((b = evbuffer_new()) == NULL)
		fatalx("web: evbuffer_new");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].page, what) != 0)
			continue;
		if (n++ == 0)
			evbuffer_add_printf(b, "<form class=\"web filter\" "
			    "method=\"get\" style=\"margin:0 0 1em\">%s",
			    en ? "<input type=\"hidden\" name=\"lang\" "
			    "value=\"en\">" : "");
		evbuffer_add_printf(b, "<label>%s <input name=\"%s\" "
		    "size=\"10\" placeholder=\"%s\" value=\"", en ?
		    fields[i].en : fields[i].zh, fields[i].name,
		    fields[i].hint);
		web_esc(b, evhttp_find_header(q, fields[i].name));
		evbuffer_add(b, "\"></label> ", 11);
	}
	if (n > 0)
		evbuffer_add_printf(b, "<button>%s</button></form><style>"
		    "@media print{form.web{display:none}}</style>",
		    WEB_T(en, "查詢", "show"));
	return b;
}

static void
web_form(struct web *w, struct evhttp_request *req, const char *what,
    const struct evkeyvalq *q, int en)
{
	static const char *const filters[] = { "from", "to", "system",
	    "kind", "month", "recur-count", "recur-window", "recur-by" };
	const char	*argv[40];
	char		 month[8], opt[8][24], from[16], to[16];
	const char	*v;
	size_t		 i;
	int		 n = 0, kind = WEB_JOB_FORM;
	time_t		 now;
	struct tm	 tm;

	argv[n++] = what;
	if (strcmp(what, "report") == 0) {
		if ((v = web_arg(q, "id")) == NULL ||
		    strspn(v, "0123456789") != strlen(v)) {
			web_error(req, 400, en, "id is an incident's number");
			return;
		}
		argv[n++] = v;
	}
	if (strcmp(what, "digest") == 0 && web_arg(q, "month") == NULL) {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(month, sizeof(month), "%Y-%m", &tm);
		argv[n++] = "--month";
		argv[n++] = month;
	}
	if (strcmp(what, "availability") == 0) {
		kind = WEB_JOB_AVAIL;
		argv[n++] = "--format";
		argv[n++] = "csv";
	} else {
		argv[n++] = "--format";
		argv[n++] = "html";
		argv[n++] = "--lang";
		argv[n++] = (en ? "en" : "zh-TW");
	}
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		if ((v = web_arg(q, filters[i])) == NULL)
			continue;
		snprintf(opt[i], sizeof(opt[i]), "--%s", filters[i]);
		argv[n++] = opt[i];
		argv[n++] = v;
	}
	/* Availability without a period: the last 30 days. */
	if (strcmp(what, "availability") == 0 && web_arg(q, "from") == NULL) {
		now = time(NULL) - (time_t)30 * 86400;
		localtime_r(&now, &tm);
		strftime(from, sizeof(from), "%Y-%m-%d", &tm);
		argv[n++] = "--from";
		argv[n++] = from;
	}
	if (strcmp(what, "availability") == 0 && web_arg(q, "to") == NULL) {
		now = time(NULL) + 86400;
		localtime_r(&now, &tm);
		strftime(to, sizeof(to), "%Y-%m-%d", &tm);
		argv[n++] = "--to";
		argv[n++] = to;
	}
	argv[n] = NULL;
	web_job(w, req, en, kind, WEB_T(en, "可用性", "availability (可用性)"),
	    argv, web_filter(what, q, en));
}

/* ------------------------------------------------------------ who */

/*
 * The account owning the client's end of a loopback TCP connection, as
 * the kernel's socket diagnostics say (NETLINK_SOCK_DIAG, what ss -e
 * reads): the socket whose source is the peer's address and port and
 * whose destination is ours.  Not /proc/net/tcp, which the service's
 * ProcSubset=pid hides.  The kernel answers at once; nothing waits.
 */
static int
web_peer_uid(struct evhttp_request *req, uid_t *uid)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent	*bev;
	struct sockaddr_storage	 me, peer;
	socklen_t		 melen = sizeof(me), peerlen = sizeof(peer);
	struct sockaddr_nl	 nl = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr		 nh;
		struct inet_diag_req_v2	 r;
	}			 q;
	union {
		struct nlmsghdr		 nh;
		char			 buf[8192];
	}			 a;
	const struct inet_diag_msg *m;
	struct timeval		 tv = { 1, 0 };
	ssize_t			 n;
	int			 fd, rc = -1;

	memset(&me, 0, sizeof(me));
	memset(&peer, 0, sizeof(peer));
	if (evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    getsockname(bufferevent_getfd(bev), (struct sockaddr *)&me,
	    &melen) == -1 ||
	    getpeername(bufferevent_getfd(bev), (struct sockaddr *)&peer,
	    &peerlen) == -1)
		return -1;
	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST;
	q.r.sdiag_family = (uint8_t)peer.ss_family;
	q.r.sdiag_protocol = IPPROTO_TCP;
	q.r.idiag_states = ~0U;
	q.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	q.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (peer.ss_family == AF_INET) {
		const struct sockaddr_in *p = (struct sockaddr_in *)&peer;
		const struct sockaddr_in *l = (struct sockaddr_in *)&me;

		q.r.id.idiag_sport = p->sin_port;
		q.r.id.idiag_dport = l->sin_port;
		memcpy(q.r.id.idiag_src, &p->sin_addr, 4);
		memcpy(q.r.id.idiag_dst, &l->sin_addr, 4);
	} else if (peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *p = (struct sockaddr_in6 *)&peer;
		const struct sockaddr_in6 *l = (struct sockaddr_in6 *)&me;

		q.r.id.idiag_sport = p->sin6_port;
		q.r.id.idiag_dport = l->sin6_port;
		memcpy(q.r.id.idiag_src, &p->sin6_addr, 16);
		memcpy(q.r.id.idiag_dst, &l->sin6_addr, 16);
	} else
		return -1;
	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &q, sizeof(q), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) == (ssize_t)sizeof(q) &&
	    (n = recv(fd, &a, sizeof(a), 0)) > 0 &&
	    NLMSG_OK(&a.nh, (size_t)n) &&
	    a.nh.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	    a.nh.nlmsg_len >= NLMSG_LENGTH(sizeof(*m))) {
		m = NLMSG_DATA(&a.nh);
		*uid = (uid_t)m->idiag_uid;
		rc = 0;
	}
	close(fd);
	return rc;
}

static const char *
web_cookie(struct evhttp_request *req, char *buf, size_t len)
{
	const char	*h, *p, *e;

	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Cookie");
	for (p = h; p != NULL && (p = strstr(p, "rtowatch=")) != NULL;
	    p++) {
		if (p != h && p[-1] != ' ' && p[-1] != ';')
			continue;
		p += 9;
		e = p + strcspn(p, "; ");
		if ((size_t)(e - p) >= len)
			return NULL;
		memcpy(buf, p, (size_t)(e - p));
		buf[e - p] = '\0';
		return buf;
	}
	return NULL;
}

/*
 * Whether N bytes of A and B are the same, in a time that does not say
 * where they differ (a guessed token learns nothing from the clock).
 * OpenSSL's CRYPTO_memcmp did this, but mapped libcrypto into pages
 * without TLS (issue 20).
 */
static int
web_secret_equal(const char *a, const char *b, size_t n)
{
	volatile unsigned char	 diff = 0;
	size_t			 i;

	for (i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static struct web_session *
web_session_find(struct web *w, const char *token)
{
	struct web_session	*s, *next;
	int64_t			 now = mono_ms();

	for (s = TAILQ_FIRST(&w->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->until <= now) {
			TAILQ_REMOVE(&w->sessions, s, entry);
			w->nsessions--;
			free(s);
			continue;
		}
		if (token != NULL && strlen(token) == 64 &&
		    web_secret_equal(s->token, token, 64))
			return s;
	}
	return NULL;
}

/* Who REQ comes from; ROLE_NONE: nobody the rules know. */
static void
web_who(struct web *w, struct evhttp_request *req, struct web_who *who)
{
	struct web_session	*s;
	char			 tok[80];

	memset(who, 0, sizeof(*who));
	if (w->ssl != NULL) {
		if ((s = web_session_find(w, web_cookie(req, tok,
		    sizeof(tok)))) != NULL) {
			snprintf(who->name, sizeof(who->name), "%s", s->name);
			who->uid = s->uid;
			who->role = s->role;
			who->session = 1;
		}
		return;
	}
	if (web_peer_uid(req, &who->uid) == 0)
		who->role = control_account(w->control, who->uid, who->name,
		    sizeof(who->name));
}

/* ------------------------------------------------------------ sign-in */

static int
web_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *arg)
{
	struct pam_response	*r;
	int			 i;

	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(arg);
	*resp = r;
	return PAM_SUCCESS;
}

/* In its own thread: pam_unix sleeps seconds after a wrong password. */
static void *
web_pam_thread(void *arg)
{
	struct web_signin	*si = arg;
	struct pam_conv		 conv = { web_pam_conv, si->password };
	pam_handle_t		*ph = NULL;

	if (pam_start("rtowatch", si->user, &conv, &ph) == PAM_SUCCESS &&
	    pam_authenticate(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK) ==
	    PAM_SUCCESS && pam_acct_mgmt(ph, PAM_SILENT) == PAM_SUCCESS)
		si->ok = 1;
	if (ph != NULL)
		pam_end(ph, PAM_SUCCESS);
	/* The loop's libevent is not thread-safe: a byte on a pipe. */
	(void)!write(si->fds[1], "", 1);
	return NULL;
}

static void
web_signin_gone_cb(struct evhttp_connection *evcon, void *arg)
{
	struct web_signin	*si = arg;

	(void)evcon;
	/*
	 * A request evhttp let go of (the client left while we worked) is
	 * ours to finish, which frees it; one still on the connection is
	 * freed with it.
	 */
	if (evhttp_request_get_connection(si->req) != NULL)
		si->req = NULL;
	si->evcon = NULL;
}

static void
web_signin_page(struct evhttp_request *req, int status, int en,
    const char *msg)
{
	struct evbuffer	*b = evbuffer_new();

	if (b == NULL)
		fatalx("web: evbuffer_new");
	web_begin(b, en, WEB_T(en, "登入", "sign in (登入)"), NULL);
	if (msg != NULL) {
		evbuffer_add(b, "<p id=\"message\" class=\"down\">", 30);
		web_esc(b, msg);
		evbuffer_add(b, "</p>", 4);
	}
	evbuffer_add_printf(b, "<form method=\"post\" action=\"/signin%s\">"
	    "<p><label>%s <input name=\"user\" autocomplete=\"username\">"
	    "</label></p><p><label>%s <input name=\"password\" type="
	    "\"password\" autocomplete=\"current-password\"></label></p>"
	    "<p><button>%s</button></p></form>", en ? "?lang=en" : "",
	    WEB_T(en, "帳號", "account"), WEB_T(en, "密碼", "password"),
	    WEB_T(en, "登入", "sign in"));
	web_end(b);
	web_html(req, status, b);
}

static void
web_signin_free(struct web_signin *si)
{
	event_free(si->ev);
	close(si->fds[0]);
	close(si->fds[1]);
	free(si);
}

/* PAM answered: a session, or the form again. */
static void
web_signin_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct web_signin	*si = arg;
	struct web		*w = si->web;
	struct web_session	*s;
	struct passwd		 pw, *res = NULL;
	unsigned char		 rnd[32];
	char			 pwbuf[4096], cookie[160], name[64];
	enum conf_role		 role = ROLE_NONE;
	int			 i;

	(void)fd;
	(void)events;
	pthread_join(si->thread, NULL);
	TAILQ_REMOVE(&w->signins, si, entry);
	w->nsignins--;
	explicit_bzero(si->password, strlen(si->password));
	free(si->password);
	if (si->ok && getpwnam_r(si->user, &pw, pwbuf, sizeof(pwbuf),
	    &res) == 0 && res != NULL)
		role = control_account(w->control, pw.pw_uid, name,
		    sizeof(name));
	if (!si->ok)
		log_info("web: sign-in refused for %s from %s: wrong account "
		    "or password", si->user, si->peer);
	else if (role == ROLE_NONE)
		log_info("web: sign-in refused for %s from %s: no role (see "
		    "the rules' role lines)", si->user, si->peer);
	if (si->evcon != NULL)
		evhttp_connection_set_closecb(si->evcon, NULL, NULL);
	if (si->ok && role != ROLE_NONE && res != NULL) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			fatalx("web: no random bytes for a session");
		/* At most WEB_MAX_SESSIONS: the oldest goes first. */
		(void)web_session_find(w, NULL);
		if (w->nsessions >= WEB_MAX_SESSIONS) {
			s = TAILQ_FIRST(&w->sessions);
			TAILQ_REMOVE(&w->sessions, s, entry);
			free(s);
			w->nsessions--;
		}
		s = xcalloc(1, sizeof(*s));
		for (i = 0; i < 32; i++)
			snprintf(s->token + (size_t)i * 2, 3, "%02x", rnd[i]);
		snprintf(s->name, sizeof(s->name), "%s", si->user);
		s->uid = pw.pw_uid;
		s->role = role;
		s->until = mono_ms() + (int64_t)WEB_SESSION_S * 1000;
		TAILQ_INSERT_TAIL(&w->sessions, s, entry);
		w->nsessions++;
		log_info("web: %s signed in from %s as %s", si->user, si->peer,
		    role == ROLE_OPERATOR ? "operator" : "auditor");
		if (si->req != NULL) {
			snprintf(cookie, sizeof(cookie), "rtowatch=%s; Path=/; "
			    "Max-Age=%d; Secure; HttpOnly; SameSite=Strict",
			    s->token, WEB_SESSION_S);
			evhttp_add_header(evhttp_request_get_output_headers(
			    si->req), "Set-Cookie", cookie);
			evhttp_add_header(evhttp_request_get_output_headers(
			    si->req), "Location", "/");
			evhttp_send_reply(si->req, 303, "See Other", NULL);
		}
	} else if (si->req != NULL)
		web_signin_page(si->req, 403, 0, "帳號或密碼錯誤，或無權限 "
		    "(wrong account or password, or no role)");
	web_signin_free(si);
}

static void
web_signin(struct web *w, struct evhttp_request *req, int en)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq	 form;
	struct web_signin	*si;
	const char		*user, *pass;
	char			 body[1024], *host = NULL;
	size_t			 len = evbuffer_get_length(in);
	ev_uint16_t		 port;
	sigset_t		 all, old;

	if (w->ssl == NULL) {
		web_error(req, 403, en, "sign-in is only over TLS (set web "
		    "tls); on loopback the page knows your account");
		return;
	}
	if (len >= sizeof(body)) {
		web_error(req, 413, en, "too long");
		return;
	}
	evbuffer_remove(in, body, len);
	body[len] = '\0';
	TAILQ_INIT(&form);
	if (evhttp_parse_query_str(body, &form) == -1 ||
	    (user = evhttp_find_header(&form, "user")) == NULL ||
	    (pass = evhttp_find_header(&form, "password")) == NULL ||
	    *user == '\0' || strlen(user) >= 64) {
		evhttp_clear_headers(&form);
		explicit_bzero(body, sizeof(body));
		web_signin_page(req, 400, en, WEB_T(en, "請輸入帳號與密碼",
		    "account and password, please"));
		return;
	}
	if (w->nsignins >= WEB_MAX_SIGNINS) {
		evhttp_clear_headers(&form);
		explicit_bzero(body, sizeof(body));
		log_info("web: sign-in refused for %s: too many at once",
		    user);
		web_signin_page(req, 503, en, "busy; try again");
		return;
	}
	si = xcalloc(1, sizeof(*si));
	si->web = w;
	si->req = req;
	snprintf(si->user, sizeof(si->user), "%s", user);
	si->password = xstrdup(pass);
	evhttp_clear_headers(&form);
	explicit_bzero(body, sizeof(body));
	si->evcon = evhttp_request_get_connection(req);
	if (si->evcon != NULL) {
		evhttp_connection_get_peer(si->evcon, &host, &port);
		snprintf(si->peer, sizeof(si->peer), "%s", host != NULL ?
		    host : "?");
		evhttp_connection_set_closecb(si->evcon, web_signin_gone_cb,
		    si);
	}
	if (pipe2(si->fds, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("web: pipe");
	if ((si->ev = event_new(w->base, si->fds[0], EV_READ,
	    web_signin_done_cb, si)) == NULL)
		fatalx("web: event_new");
	event_add(si->ev, NULL);
	/* Every signal blocked in the thread: they are the loop's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&si->thread, NULL, web_pam_thread, si) != 0)
		fatalx("web: pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	TAILQ_INSERT_TAIL(&w->signins, si, entry);
	w->nsignins++;
}

/*
 * POST /signout: the session ends here, not only in this browser (its
 * cookie is cleared too), so a token copied from it is worth nothing.
 */
static void
web_signout(struct web *w, struct evhttp_request *req, int en)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct web_session	*s;
	char			 tok[80];

	if (w->ssl != NULL && (s = web_session_find(w, web_cookie(req, tok,
	    sizeof(tok)))) != NULL) {
		log_info("web: %s signed out", s->name);
		TAILQ_REMOVE(&w->sessions, s, entry);
		w->nsessions--;
		explicit_bzero(s->token, sizeof(s->token));
		free(s);
	}
	explicit_bzero(tok, sizeof(tok));
	evhttp_add_header(h, "Set-Cookie", "rtowatch=; Path=/; Max-Age=0; "
	    "Secure; HttpOnly; SameSite=Strict");
	evhttp_add_header(h, "Location", en ? "/signin?lang=en" : "/signin");
	evhttp_send_reply(req, 303, "See Other", NULL);
}

/* ------------------------------------------------------------ events */

static void
web_client_gone_cb(struct evhttp_connection *evcon, void *arg)
{
	struct web_client	*cl = arg;

	(void)evcon;
	/* The stream evhttp let go of is ours to end, which frees it. */
	if (evhttp_request_get_connection(cl->req) == NULL)
		evhttp_send_reply_end(cl->req);
	TAILQ_REMOVE(&cl->web->clients, cl, entry);
	cl->web->nclients--;
	free(cl);
}

/* New timeline rows: one server-sent event each, to every follower. */
static void
web_follow_cb(void *arg)
{
	struct web		*w = arg;
	struct web_client	*cl;
	struct evbuffer		*b;
	json_t			*r;
	const json_t		*ev;
	char			 q[40], *text;
	size_t			 i;
	int			 status;

	/* Nobody follows: nothing read; the next follower starts now. */
	if (w->nclients == 0) {
		w->last_event = 0;
		return;
	}
	snprintf(q, sizeof(q), "after=%lld", (long long)w->last_event);
	if ((r = control_read(w->control, "/v1/events", q, &status)) == NULL
	    || status != 200) {
		json_decref(r);
		return;
	}
	w->last_event = json_integer_value(json_object_get(r, "last"));
	if ((b = evbuffer_new()) == NULL)
		fatalx("web: evbuffer_new");
	json_array_foreach(json_object_get(r, "events"), i, ev) {
		if ((text = json_dumps(ev, JSON_COMPACT)) == NULL)
			continue;
		evbuffer_add_printf(b, "id: %lld\ndata: %s\n\n", (long long)
		    json_integer_value(json_object_get(ev, "id")), text);
		free(text);
	}
	json_decref(r);
	/* evhttp_send_reply_chunk drains what it sends: a copy each. */
	TAILQ_FOREACH(cl, &w->clients, entry)
		if (evbuffer_get_length(b) > 0)
			web_chunk(cl->req, evbuffer_pullup(b, -1),
			    evbuffer_get_length(b));
	evbuffer_free(b);
}

/*
 * The store has refused writes for store-alert-after: the followers are
 * told now, as the control socket's long poll tells its waiters, with
 * the same transient event (no id: it moves no one's cursor).  Their
 * pages redraw and show the store's state from /v1/status.
 */
static void
web_alert_cb(const char *msg, void *arg)
{
	struct web		*w = arg;
	struct web_client	*cl;
	struct evbuffer		*b;
	json_t			*ev;
	char			 t[TIME_STRLEN], *text;

	if (w->nclients == 0)
		return;
	ev = json_pack("{sb ss ss ss ss}", "transient", 1, "at",
	    time_fmt(wall_ms(), t, sizeof(t)), "event", "store failing",
	    "actor", "rtowatchd", "detail", msg);
	if (ev == NULL || (text = json_dumps(ev, JSON_COMPACT)) == NULL) {
		json_decref(ev);
		return;
	}
	json_decref(ev);
	if ((b = evbuffer_new()) == NULL)
		fatalx("web: evbuffer_new");
	evbuffer_add_printf(b, "data: %s\n\n", text);
	free(text);
	TAILQ_FOREACH(cl, &w->clients, entry)
		web_chunk(cl->req, evbuffer_pullup(b, -1),
		    evbuffer_get_length(b));
	evbuffer_free(b);
}

static void
web_chunk(struct evhttp_request *req, const void *data, size_t len)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		fatalx("web: evbuffer_new");
	evbuffer_add(b, data, len);
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
}

static void
web_heartbeat_cb(evutil_socket_t fd, short events, void *arg)
{
	struct web		*w = arg;
	struct web_client	*cl;

	(void)fd;
	(void)events;
	TAILQ_FOREACH(cl, &w->clients, entry)
		web_chunk(cl->req, ": alive\n\n", 9);
}

static void
web_events(struct web *w, struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct web_client	*cl;
	struct evbuffer		*b;
	json_t			*r;
	int			 status;

	if (w->nclients >= WEB_MAX_CLIENTS) {
		evhttp_add_header(h, "Retry-After", "10");
		evhttp_send_error(req, 503, "too many followers");
		return;
	}
	if (w->last_event == 0 && (r = control_read(w->control,
	    "/v1/events", NULL, &status)) != NULL) {
		w->last_event = json_integer_value(json_object_get(r, "last"));
		json_decref(r);
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->web = w;
	cl->req = req;
	cl->evcon = evhttp_request_get_connection(req);
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply_start(req, 200, "OK");
	if ((b = evbuffer_new()) == NULL)
		fatalx("web: evbuffer_new");
	evbuffer_add(b, "retry: 1000\n\n", 13);
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
	if (cl->evcon != NULL)
		evhttp_connection_set_closecb(cl->evcon, web_client_gone_cb,
		    cl);
	TAILQ_INSERT_TAIL(&w->clients, cl, entry);
	w->nclients++;
}

/* ------------------------------------------------------------ routing */

/*
 * A caller without a role, in the log: at most one line every
 * WEB_LOG_EVERY_S, as on the control socket, with how many more.
 */
static void
web_refused(struct web *w, const struct web_who *who)
{
	int64_t	 now = mono_ms();

	if (w->refused_at != 0 &&
	    now - w->refused_at < WEB_LOG_EVERY_S * INT64_C(1000)) {
		w->refused++;
		return;
	}
	log_info("web: refused %s (uid %u): no role%s", who->name[0] != '\0' ?
	    who->name : "an unknown account", (unsigned)who->uid,
	    w->refused > 0 ? " (and more refused since the last line)" : "");
	w->refused_at = now;
	w->refused = 0;
}

/*
 * /metrics for a scraper that sends "Authorization: Bearer TOKEN" (set
 * web metrics-token): an auditor's read of it and of nothing else.  A
 * wrong token is refused and logged, at most a line every
 * WEB_LOG_EVERY_S, as a scraper tries again every few seconds.
 */
static void
web_metrics_token(struct web *w, struct evhttp_request *req)
{
	struct web_who	 who;
	const char	*auth;
	size_t		 len = strlen(w->cf.metrics_token);

	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0 &&
	    strlen(auth + 7) == len &&
	    web_secret_equal(auth + 7, w->cf.metrics_token, len)) {
		control_serve(w->control, req, "metrics-token", (uid_t)-1,
		    ROLE_AUDITOR);
		return;
	}
	memset(&who, 0, sizeof(who));
	snprintf(who.name, sizeof(who.name), "a scraper with a wrong "
	    "metrics-token");
	who.uid = (uid_t)-1;
	web_refused(w, &who);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "WWW-Authenticate", "Bearer realm=\"rtowatch\"");
	evhttp_send_error(req, 401, "wrong metrics token");
}

static void
web_request_cb(struct evhttp_request *req, void *arg)
{
	struct web		*w = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type	 method = evhttp_request_get_command(req);
	struct evkeyvalq	 q;
	struct web_who		 who;
	const char		*path, *query, *lang;
	int			 en, metrics;

	TAILQ_INIT(&q);
	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL)
		path = "/";
	if ((query = evhttp_uri_get_query(uri)) != NULL &&
	    evhttp_parse_query_str(query, &q) == -1) {
		web_error(req, 400, 0, "malformed query string");
		return;
	}
	lang = evhttp_find_header(&q, "lang");
	en = lang != NULL && strcmp(lang, "en") == 0;
	if (method == EVHTTP_REQ_POST && strcmp(path, "/signin") == 0) {
		web_signin(w, req, en);
		goto done;
	}
	if (method == EVHTTP_REQ_POST && strcmp(path, "/signout") == 0) {
		web_signout(w, req, en);
		goto done;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		/* Read-only: the workflow is the control socket's. */
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		web_error(req, 405, en, "this page only reads; actions are "
		    "taken with rtowatch on the host (the control socket)");
		goto done;
	}
	if (strcmp(path, "/public") == 0) {
		web_public(w, req, en);
		goto done;
	}
	if (strcmp(path, "/signin") == 0) {
		web_signin_page(req, 200, en, NULL);
		goto done;
	}
	metrics = strcmp(path, "/metrics") == 0;
	if (metrics && w->cf.metrics_token != NULL &&
	    evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization") != NULL) {
		web_metrics_token(w, req);
		goto done;
	}
	web_who(w, req, &who);
	if (who.role == ROLE_NONE) {
		if (metrics) {
			/* A scraper follows no redirect to a form. */
			if (w->ssl == NULL)
				web_refused(w, &who);
			evhttp_send_error(req, w->ssl != NULL ? 401 : 403,
			    "/metrics needs an account with a role");
		} else if (w->ssl != NULL) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Location", en ? "/signin?lang=en" :
			    "/signin");
			evhttp_send_reply(req, 303, "See Other", NULL);
		} else {
			web_refused(w, &who);
			web_error(req, 403, en, "your account has no role on "
			    "this daemon (see the rules' role lines)");
		}
		goto done;
	}
	/* /metrics: the control socket's own, for the same roles. */
	if (strncmp(path, "/v1/", 4) == 0 || metrics)
		control_serve(w->control, req, who.name, who.uid, who.role);
	else if (strcmp(path, "/") == 0)
		web_status(w, req, &who, en, evhttp_find_header(&q,
		    "part") != NULL);
	else if (strcmp(path, "/events") == 0)
		web_events(w, req);
	else if (strcmp(path, "/incident") == 0)
		web_form(w, req, "report", &q, en);
	else if (strcmp(path, "/register") == 0)
		web_form(w, req, "register", &q, en);
	else if (strcmp(path, "/digest") == 0)
		web_form(w, req, "digest", &q, en);
	else if (strcmp(path, "/availability") == 0)
		web_form(w, req, "availability", &q, en);
	else if (strcmp(path, "/warnings") == 0)
		web_warnings(w, req, &who, en);
	else
		web_error(req, 404, en, "no such page");
 done:
	evhttp_clear_headers(&q);
}

/* ------------------------------------------------------------- set-up */

static struct bufferevent *
web_bev_cb(struct event_base *base, void *arg)
{
	struct web	*w = arg;
	SSL		*ssl;

	if ((ssl = SSL_new(w->ssl)) == NULL)
		fatalx("web: SSL_new");
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static SSL_CTX *
web_tls(const char *cert, const char *key)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_warnx("web: %s, %s: %s", cert, key,
		    ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* rtowatch: beside rtowatchd (bin/), in ../bin (sbin/), or on PATH. */
static char *
web_find_cli(void)
{
	char	 self[PATH_MAX], *slash, *path;
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			xasprintf(&path, "%s/rtowatch", self);
			if (access(path, X_OK) == 0)
				return path;
			free(path);
			xasprintf(&path, "%s/../bin/rtowatch", self);
			if (access(path, X_OK) == 0)
				return path;
			free(path);
		}
	}
	return xstrdup("/usr/bin/rtowatch");
}

static void
web_stop(struct web *w)
{
	struct web_job		*j, *next;
	struct web_session	*s;
	struct web_signin	*si, *si_next;

	for (j = TAILQ_FIRST(&w->jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->req != NULL)
			evhttp_send_error(j->req, 503, "stopping");
		web_job_free(j);
	}
	/* PAM answers within seconds; its requests go with evhttp. */
	for (si = TAILQ_FIRST(&w->signins); si != NULL; si = si_next) {
		si_next = TAILQ_NEXT(si, entry);
		pthread_join(si->thread, NULL);
		explicit_bzero(si->password, strlen(si->password));
		free(si->password);
		if (si->evcon != NULL)
			evhttp_connection_set_closecb(si->evcon, NULL, NULL);
		if (si->req != NULL)
			evhttp_send_error(si->req, 503, "stopping");
		TAILQ_REMOVE(&w->signins, si, entry);
		w->nsignins--;
		web_signin_free(si);
	}
	/* evhttp_free closes the followers' connections: gone_cb. */
	if (w->http != NULL)
		evhttp_free(w->http);
	w->http = NULL;
	if (w->ssl != NULL)
		SSL_CTX_free(w->ssl);
	w->ssl = NULL;
	while ((s = TAILQ_FIRST(&w->sessions)) != NULL) {
		TAILQ_REMOVE(&w->sessions, s, entry);
		free(s);
	}
	w->nsessions = 0;
}

static int
web_start(struct web *w, const struct conf *conf)
{
	const struct web_conf	*wc = &conf->web;
	struct sockaddr_storage	 ss;
	int			 len = (int)sizeof(ss);
	char			 host[64];
	const char		*port;

	if (wc->cert != NULL && (w->ssl = web_tls(wc->cert,
	    wc->key)) == NULL)
		return -1;
	if (evutil_parse_sockaddr_port(wc->listen, (struct sockaddr *)&ss,
	    &len) == -1)
		return -1;
	/* evhttp_bind_socket wants the address and the port apart. */
	if ((port = strrchr(wc->listen, ':')) == NULL)
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(port - wc->listen),
	    wc->listen);
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	if ((w->http = evhttp_new(w->base)) == NULL)
		fatalx("web: evhttp_new");
	if (evhttp_bind_socket(w->http, host, (ev_uint16_t)strtoul(port + 1,
	    NULL, 10)) == -1) {
		log_warn("web: cannot listen on %s", wc->listen);
		return -1;
	}
	if (w->ssl != NULL)
		evhttp_set_bevcb(w->http, web_bev_cb, w);
	evhttp_set_timeout(w->http, WEB_TIMEOUT_S);
	evhttp_set_max_body_size(w->http, 4096);
	evhttp_set_max_headers_size(w->http, 16384);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(w->http, web_request_cb, w);
	log_info("web page on %s://%s", w->ssl != NULL ? "https" : "http",
	    wc->listen);
	return 0;
}

static int
web_same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/*
 * Apply the rules' "set web" lines, at start and at each reload: the
 * listener is opened, moved or closed as they say; the public systems
 * change at once.  W is NULL the first time; NULL is returned when the
 * page is off.
 */
struct web *
web_configure(struct web *w, struct event_base *base,
    struct control *control, const struct conf *conf)
{
	const struct web_conf	*wc = &conf->web;
	struct timeval		 tv = { WEB_HEARTBEAT_S, 0 };
	int			 same;

	if (wc->listen == NULL) {
		if (w != NULL)
			log_info("web page off");
		web_free(w);
		return NULL;
	}
	if (w == NULL) {
		w = xcalloc(1, sizeof(*w));
		w->base = base;
		w->control = control;
		TAILQ_INIT(&w->jobs);
		TAILQ_INIT(&w->clients);
		TAILQ_INIT(&w->sessions);
		TAILQ_INIT(&w->signins);
		w->cli = web_find_cli();
		if ((w->heartbeat = event_new(base, -1, EV_PERSIST,
		    web_heartbeat_cb, w)) == NULL)
			fatalx("web: event_new");
		evtimer_add(w->heartbeat, &tv);
		if ((w->rtt = json_object()) == NULL ||
		    (w->rtt_todo = json_array()) == NULL ||
		    (w->rtt_fill = event_new(base, -1, 0, web_rtt_fill_cb,
		    w)) == NULL)
			fatalx("web: cannot keep the charts' history");
		control_follow(control, web_follow_cb, web_alert_cb, w);
	}
	free(w->database);
	w->database = xstrdup(conf->database);
	same = w->http != NULL && web_same(w->cf.listen, wc->listen) &&
	    web_same(w->cf.cert, wc->cert) && web_same(w->cf.key, wc->key);
	conf_copy_web(&w->cf, wc);
	if (same)
		return w;
	web_stop(w);
	if (web_start(w, conf) == -1) {
		log_warnx("web: no web page until the rules are fixed and "
		    "reloaded");
		web_stop(w);
	}
	return w;
}

/*
 * The rtowatch the forms run, instead of the one beside rtowatchd; NULL:
 * none, and the form pages answer 503.  For the fuzzer (tests/fuzz/
 * fuzz_web.c), which must not fork a child an input.
 */
void
web_set_cli(struct web *w, const char *path)
{
	free(w->cli);
	w->cli = path != NULL ? xstrdup(path) : NULL;
}

void
web_free(struct web *w)
{
	if (w == NULL)
		return;
	control_follow(w->control, NULL, NULL, NULL);
	web_stop(w);
	event_free(w->heartbeat);
	event_free(w->rtt_fill);
	json_decref(w->rtt);
	json_decref(w->rtt_todo);
	conf_free_web(&w->cf);
	free(w->database);
	free(w->cli);
	free(w);
}
