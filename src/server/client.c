/*
 * One event-socket connection on a bufferevent: frames untrusted input
 * into capped lines, answers commands, and queues events under a byte cap,
 * replacing what it had to drop with a "lost" notice and a fresh snapshot,
 * which it copies out a few lines at a time as the output drains.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "json/jsonw.h"
#include "protocol/message.h"
#include "server/client.h"
#include "server/snapshot.h"
#include "util/log.h"
#include "xgm-config.h"

/* How long a client closed for cause (an over-long line) may take to read our last word. */
#define CLOSE_FLUSH_MS 5000

static size_t output_cap(const struct server_client *c)
{
	return c->host->cfg->client_output_cap;
}

static struct evbuffer *output(const struct server_client *c)
{
	return bufferevent_get_output(c->bev);
}

size_t server_client_output_length(const struct server_client *c)
{
	return evbuffer_get_length(output(c)) + (c->run.block ? c->run.end - c->run.start : 0) +
	       (c->stream.held ? evbuffer_get_length(c->stream.held) : 0);
}

/* Half the cap: the output's low watermark, what a snapshot fills it to, and what may be held. */
static size_t stream_chunk(const struct server_client *c)
{
	return output_cap(c) / 2;
}

static void set_write_timeout(struct server_client *c, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	bufferevent_set_timeouts(c->bev, NULL, ms ? &tv : NULL);
}

/* Appends the written object and its newline, both or neither: a message is never cut. */
static int append_message(struct evbuffer *out, const struct jsonw *w)
{
	const char *text;
	size_t len;

	jsonw_text(w, &text, &len);
	if (evbuffer_expand(out, len + 1) < 0 || evbuffer_add(out, text, len) < 0 ||
	    evbuffer_add(out, "\n", 1) < 0)
		return -ENOMEM;
	return 0;
}

/* A client that cannot be sent a message is closed: it would see a gap nothing explains. */
static int queue_message(struct server_client *c, const struct jsonw *w)
{
	int r;

	/* Events published before this message go out before it. */
	server_client_flush_run(c);
	if (c->state != CLIENT_OPEN && c->state != CLIENT_CLOSING)
		return -ENOMEM;
	r = append_message(output(c), w);
	if (r)
		server_client_close(c, "out of memory");
	return r;
}

/*
 * Queues the message written into w, or closes the client when it could
 * not be written; releases w either way. 0 or a negative errno.
 */
static int finish(struct server_client *c, struct jsonw *w)
{
	int r = jsonw_error(w);

	if (!r)
		r = queue_message(c, w);
	else
		server_client_close(c, r == -ENOMEM ? "out of memory" : "cannot encode a message");
	jsonw_release(w);
	return r;
}

static void send_error(struct server_client *c, const struct command_id *id,
		       enum command_error_class cls, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void send_error(struct server_client *c, const struct command_id *id,
		       enum command_error_class cls, const char *fmt, ...)
{
	char desc[256];
	struct jsonw w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	c->host->stats->errors++;
	log_debug("client %lu: %s: %s", c->serial, command_error_class_name(cls), desc);
	jsonw_init(&w);
	message_error(&w, id, cls, desc);
	finish(c, &w);
}

static void send_reply(struct server_client *c, const struct command_id *id)
{
	struct jsonw w;

	jsonw_init(&w);
	message_reply(&w, id);
	finish(c, &w);
}

static void pause_reading(struct server_client *c)
{
	if (c->reading_paused)
		return;
	c->reading_paused = true;
	bufferevent_disable(c->bev, EV_READ);
}

/* Drops a snapshot under way and what it held back (the client is closing). */
static void stream_stop(struct server_client *c)
{
	snapshot_unref(c->stream.snap);
	c->stream.snap = NULL;
	if (c->stream.held)
		evbuffer_free(c->stream.held);
	c->stream.held = NULL;
}

/* The snapshot is all out: snapshot-end, then the events that came meanwhile. */
static void stream_end(struct server_client *c)
{
	uint64_t seq = snapshot_seq(c->stream.snap);
	struct evbuffer *held = c->stream.held;
	struct jsonw w;

	c->stream.held = NULL;
	stream_stop(c);
	c->host->stats->snapshots++;
	jsonw_init(&w);
	message_snapshot_end(&w, seq);
	if (finish(c, &w) == 0 && evbuffer_add_buffer(output(c), held) < 0)
		server_client_close(c, "out of memory");
	evbuffer_free(held);
}

/* Copies the snapshot out while the output is under half the cap. */
static void stream_pump(struct server_client *c)
{
	struct evbuffer *out = output(c);

	while (c->stream.snap && c->state == CLIENT_OPEN) {
		size_t queued = evbuffer_get_length(out);
		long n;

		if (queued >= stream_chunk(c))
			return;		/* write_cb comes back once it drained */
		n = snapshot_copy_lines(c->stream.snap, &c->stream.offset, out,
					stream_chunk(c) - queued);
		if (n < 0)
			server_client_close(c, "out of memory");
		else if (n == 0)
			stream_end(c);
	}
}

/* Sends snap (the reference is the client's now), lost events being repaired by it. */
static void stream_start(struct server_client *c, struct snapshot *snap)
{
	c->stream.held = evbuffer_new();
	if (!c->stream.held) {
		snapshot_unref(snap);
		server_client_close(c, "out of memory");
		return;
	}
	server_client_flush_run(c);
	c->stream.snap = snap;
	c->stream.offset = 0;
	c->lost.count = 0;
	pause_reading(c);
	stream_pump(c);
}

static void do_subscribe(struct server_client *c, struct command *cmd)
{
	struct snapshot *snapshot = NULL;
	int r;

	/* Snapshot first: if the engine fails, the old subscription stands and the reply is an error. */
	if (cmd->snapshot) {
		snapshot = c->host->snapshot_for(c->host->arg, &cmd->filter, &r);
		if (!snapshot) {
			send_error(c, &cmd->id, COMMAND_ERROR_INTERNAL, "cannot take a snapshot: %s",
				   strerror(-r));
			return;
		}
	}
	command_filter_move(&c->filter, &cmd->filter);
	if (!c->subscribed)
		log_info("client %lu: subscribed (pid %d, uid %u)", c->serial, c->peer_pid, c->peer_uid);
	c->subscribed = true;
	send_reply(c, &cmd->id);
	if (snapshot && c->state == CLIENT_OPEN)
		stream_start(c, snapshot);
	else
		snapshot_unref(snapshot);
}

static void do_unsubscribe(struct server_client *c, struct command *cmd)
{
	c->subscribed = false;
	command_filter_release(&c->filter);
	/* Nothing to recover for a client that no longer wants events. */
	c->lost.count = 0;
	send_reply(c, &cmd->id);
}

/* Replies through an engine query that writes into the open reply map. */
static void do_query(struct server_client *c, struct command *cmd)
{
	const struct server_engine_ops *ops = c->host->ops;
	void *engine = c->host->engine;
	struct jsonw w;
	int r;

	/* Out of memory before a word: closed, as for any message we cannot make. */
	if (jsonw_init(&w) < 0) {
		jsonw_release(&w);
		server_client_close(c, "out of memory");
		return;
	}
	message_reply_open(&w, &cmd->id);
	switch (cmd->kind) {
	case COMMAND_GET:
		ops->get(engine, cmd->domid, &w);
		break;
	case COMMAND_LIST:
		ops->list(engine, &w);
		break;
	case COMMAND_STATS:
		jsonw_cstr(&w, "server");
		jsonw_map_open(&w);
		c->host->write_stats(c->host->arg, &w);
		jsonw_map_close(&w);
		jsonw_cstr(&w, "engine");
		jsonw_map_open(&w);
		ops->stats(engine, &w);
		jsonw_map_close(&w);
		break;
	default:
		jsonw_fail(&w, -EINVAL);
	}
	jsonw_map_close(&w);
	r = jsonw_error(&w);
	if (!r)
		queue_message(c, &w);
	else if (r == -ENOENT && cmd->kind == COMMAND_GET)
		send_error(c, &cmd->id, COMMAND_ERROR_NOT_FOUND, "no domain %u", cmd->domid);
	else
		send_error(c, &cmd->id, COMMAND_ERROR_INTERNAL, "cannot answer: %s", strerror(-r));
	jsonw_release(&w);
}

static void dispatch(struct server_client *c, struct command *cmd)
{
	switch (cmd->kind) {
	case COMMAND_PING:
		send_reply(c, &cmd->id);
		break;
	case COMMAND_SUBSCRIBE:
		do_subscribe(c, cmd);
		break;
	case COMMAND_UNSUBSCRIBE:
		do_unsubscribe(c, cmd);
		break;
	case COMMAND_GET:
	case COMMAND_LIST:
	case COMMAND_STATS:
		do_query(c, cmd);
		break;
	}
}

static void handle_line(struct server_client *c, const char *line, size_t len)
{
	struct command_error err;
	struct command cmd;
	size_t i;
	int r;

	/* Blank lines are a typing habit in interactive sessions, not commands. */
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return;
	if (line[len - 1] == '\r')
		len--;
	c->host->stats->commands++;
	r = command_parse(line, len, &cmd, &err);
	if (r == 0)
		dispatch(c, &cmd);
	else if (r == -EINVAL)
		send_error(c, &cmd.id, err.cls, "%s", err.desc);
	else
		send_error(c, NULL, COMMAND_ERROR_INTERNAL, "cannot parse: %s", strerror(-r));
	command_release(&cmd);
}

/* Stops reading and closes once the output is flushed (or after CLOSE_FLUSH_MS). */
static void begin_closing(struct server_client *c, const char *why)
{
	if (c->state != CLIENT_OPEN)
		return;
	log_debug("client %lu: closing (%s)", c->serial, why);
	c->state = CLIENT_CLOSING;
	stream_stop(c);		/* its last word follows whole lines: the snapshot is not finished */
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	set_write_timeout(c, CLOSE_FLUSH_MS);
	if (server_client_output_length(c) == 0)
		server_client_close(c, why);
}

static void line_too_long(struct server_client *c)
{
	send_error(c, NULL, COMMAND_ERROR_LINE_TOO_LONG, "a line is longer than %d bytes; closing",
		   XGM_MAX_CLIENT_LINE);
	begin_closing(c, "line too long");
}

/*
 * Handles every complete line in the input, as long as the client takes
 * its replies: past the output cap, commands wait (and the socket is not
 * read) until the output drains, so no client can grow our memory by
 * sending commands without reading. They wait while a snapshot is under
 * way too, so that no reply comes between it and its snapshot-end.
 */
static void process_input(struct server_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->state == CLIENT_OPEN) {
		struct evbuffer_ptr eol;
		size_t len, n = evbuffer_get_length(in);

		if (c->stream.snap || server_client_output_length(c) >= output_cap(c)) {
			pause_reading(c);
			return;
		}
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (n > XGM_MAX_CLIENT_LINE) {
				line_too_long(c);
			} else if (c->read_eof) {
				/* The last line may lack its newline. */
				if (n)
					handle_line(c, (const char *)evbuffer_pullup(in, -1), n);
				evbuffer_drain(in, n);
				begin_closing(c, "end of input");
			}
			return;
		}
		len = (size_t)eol.pos;
		if (len > XGM_MAX_CLIENT_LINE) {
			line_too_long(c);
			return;
		}
		handle_line(c, (const char *)evbuffer_pullup(in, (ev_ssize_t)len + 1), len);
		evbuffer_drain(in, len + 1);
	}
}

/* Output drained below half the cap: report a loss, and repair it with a snapshot. */
static void recover(struct server_client *c)
{
	struct snapshot *snapshot;
	struct jsonw w;
	int r;

	log_info("client %lu: caught up; %llu events lost (seq %llu..%llu), resending a snapshot",
		 c->serial, (unsigned long long)c->lost.count, (unsigned long long)c->lost.first_seq,
		 (unsigned long long)c->lost.last_seq);
	jsonw_init(&w);
	message_lost(&w, c->lost.count, c->lost.first_seq, c->lost.last_seq);
	if (finish(c, &w))
		return;
	c->host->stats->lost_notices++;
	c->lost.count = 0;
	snapshot = c->host->snapshot_for(c->host->arg, &c->filter, &r);
	if (!snapshot) {
		/* Without a snapshot the client cannot become consistent: let it reconnect. */
		send_error(c, NULL, COMMAND_ERROR_INTERNAL, "cannot take a snapshot: %s", strerror(-r));
		begin_closing(c, "snapshot failed");
		return;
	}
	stream_start(c, snapshot);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	process_input(arg);
}

/* Called after a write once the output is at or below the low watermark (half the cap). */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct server_client *c = arg;

	if (c->state == CLIENT_CLOSING) {
		if (server_client_output_length(c) == 0)
			server_client_close(c, "flushed");
		return;
	}
	if (c->state != CLIENT_OPEN)
		return;
	stream_pump(c);
	if (c->state == CLIENT_OPEN && !c->stream.snap && c->lost.count && c->subscribed)
		recover(c);
	if (c->state == CLIENT_OPEN && !c->stream.snap && c->reading_paused &&
	    server_client_output_length(c) < output_cap(c)) {
		c->reading_paused = false;
		if (!c->read_eof)
			bufferevent_enable(c->bev, EV_READ);
		process_input(c);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct server_client *c = arg;

	if (what & BEV_EVENT_EOF) {
		/* Replies to what was sent before the EOF still go out. */
		c->read_eof = true;
		process_input(c);
	} else if (what & BEV_EVENT_TIMEOUT) {
		if (c->state == CLIENT_OPEN) {
			c->host->stats->clients_stalled++;
			log_info("client %lu: no progress for %u ms with %zu bytes queued, disconnecting",
				 c->serial, c->host->cfg->stall_timeout_ms, server_client_output_length(c));
		}
		server_client_close(c, "write timeout");
	} else if (what & BEV_EVENT_ERROR) {
		server_client_close(c, strerror(EVUTIL_SOCKET_ERROR()));
	}
}

void server_client_reconfigure(struct server_client *c)
{
	if (c->state != CLIENT_OPEN)
		return;
	bufferevent_setwatermark(c->bev, EV_WRITE, output_cap(c) / 2, 0);
	set_write_timeout(c, c->host->cfg->stall_timeout_ms);
}

struct server_client *server_client_new(const struct client_host *host, evutil_socket_t fd,
					unsigned long serial)
{
	struct ucred cred = { .pid = 0 };
	socklen_t cred_len = sizeof(cred);
	struct server_client *c;
	struct jsonw w;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->host = host;
	c->serial = serial;
	c->filter.all_domains = true;
	c->filter.events = XGM_EVENT_ALL;
	c->bev = bufferevent_socket_new(host->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		close(fd);
		free(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	/* Never hold more than one line past the cap: the cap check needs no more. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, XGM_MAX_CLIENT_LINE + 1);
	server_client_reconfigure(c);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) < 0)
		goto fail;
	jsonw_init(&w);
	message_hello(&w, XGM_VERSION, host->instance, host->ops->last_seq(host->engine));
	/* Not finish(): a client the host does not hold yet must not be reported closed. */
	if (jsonw_error(&w) || append_message(output(c), &w)) {
		jsonw_release(&w);
		goto fail;
	}
	jsonw_release(&w);
	/* One-shot queries (xgmctl get from a cron job) would flood info; subscribers are logged there. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) {
		c->peer_pid = (int)cred.pid;
		c->peer_uid = (unsigned int)cred.uid;
	}
	log_debug("client %lu: connected (pid %d, uid %u)", serial, c->peer_pid, c->peer_uid);
	return c;
fail:
	bufferevent_free(c->bev);
	free(c);
	return NULL;
}

void server_client_flush_run(struct server_client *c)
{
	struct out_block *b = c->run.block;

	if (!b)
		return;
	c->run.block = NULL;
	if (c->state == CLIENT_OPEN &&
	    out_block_queue(output(c), b, c->run.start, c->run.end - c->run.start) < 0)
		server_client_close(c, "out of memory");
}

/* Queues or extends the run with one line; 0 or -ENOMEM. */
static int add_to_run(struct server_client *c, struct out_block *block, size_t offset, size_t len)
{
	/* Behind a snapshot under way, an event waits for its snapshot-end: no run then. */
	if (c->stream.snap)
		return out_block_queue(c->stream.held, block, offset, len);
	if (c->run.block == block && c->run.end == offset) {
		c->run.end += len;
		return 0;
	}
	server_client_flush_run(c);
	if (c->state != CLIENT_OPEN)
		return -ENOMEM;
	c->run.block = block;
	c->run.start = offset;
	c->run.end = offset + len;
	return 0;
}

void server_client_publish(struct server_client *c, unsigned int domid, enum xgm_event kind,
			   uint64_t seq, struct out_block *block, size_t offset, size_t len)
{
	size_t queued, cap;

	if (c->state != CLIENT_OPEN || !c->subscribed || !command_filter_match(&c->filter, domid, kind))
		return;
	queued = c->stream.snap ? evbuffer_get_length(c->stream.held) : server_client_output_length(c);
	cap = c->stream.snap ? stream_chunk(c) : output_cap(c);
	/* Once dropping, keep dropping until recovery: a gap must be reported, never silent. */
	if (block && c->lost.count == 0 && queued < cap && add_to_run(c, block, offset, len) == 0) {
		c->host->stats->events_sent++;
		return;
	}
	if (c->state != CLIENT_OPEN)
		return;
	if (c->lost.count == 0) {
		log_info("client %lu: %zu bytes queued, dropping events until it catches up",
			 c->serial, server_client_output_length(c));
		c->lost.first_seq = seq;
		/*
		 * Lost with nothing queued (an event that could not be encoded):
		 * no write will call write_cb, so ask for it from the loop.
		 */
		if (evbuffer_get_length(output(c)) == 0)
			bufferevent_trigger(c->bev, EV_WRITE,
					    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	}
	c->lost.count++;
	c->lost.last_seq = seq;
	c->host->stats->events_dropped++;
}

void server_client_bye(struct server_client *c, const char *reason)
{
	struct jsonw w;

	if (c->state != CLIENT_OPEN)
		return;
	jsonw_init(&w);
	message_bye(&w, reason);
	if (finish(c, &w) == 0)
		begin_closing(c, reason);
}

void server_client_close(struct server_client *c, const char *why)
{
	if (c->state == CLIENT_CLOSED)
		return;
	log_msg(c->subscribed ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG, "client %lu: disconnected (%s)",
		c->serial, why);
	c->state = CLIENT_CLOSED;
	c->run.block = NULL;	/* never queued: the client is gone */
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	c->host->closed(c->host->arg, c);
}

void server_client_free(struct server_client *c)
{
	if (!c)
		return;
	/*
	 * bufferevent_free() leaves freeing the buffers to a finalizer that
	 * runs in a later loop turn, after the reaper's malloc_trim(); its
	 * queue would be freed where nothing trims it, and stay resident.
	 * Free it now. (The bufferevent keeps the output's front frozen.)
	 */
	evbuffer_unfreeze(output(c), 1);
	evbuffer_drain(output(c), evbuffer_get_length(output(c)));
	bufferevent_free(c->bev);
	stream_stop(c);
	command_filter_release(&c->filter);
	free(c);
}
