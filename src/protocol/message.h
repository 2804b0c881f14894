/*
 * The server's own messages (hello, reply, error, snapshot-end, lost, bye),
 * each written into a jsonw writer as one compact object, without the newline,
 * and the opening every event shares. Pure. The rest of an event is the
 * engine's.
 */
#pragma once

#include <stdint.h>

#include "json/jsonw.h"
#include "protocol/command.h"

/* Errors are kept in w (jsonw_error()); after one, w holds a partial object: discard it. */

/* {"type":"hello","protocol":1,"server":{"name":"xgmd","version":..},"instance":..,"seq":..} */
void message_hello(struct jsonw *w, const char *version, const char *instance, uint64_t seq);

/*
 * {"type":"reply","id":..,"ok":true and the map left open, so the caller
 * can add the command's results; close it with jsonw_map_close().
 */
void message_reply_open(struct jsonw *w, const struct command_id *id);

/* {"type":"reply","id":..,"ok":true} */
void message_reply(struct jsonw *w, const struct command_id *id);

/* {"type":"error","id":..,"error":{"class":..,"desc":..}}; desc may be any bytes. */
void message_error(struct jsonw *w, const struct command_id *id, enum command_error_class cls,
		   const char *desc);

/*
 * {"type":"event","seq":..,"event":<xgm_event_name(kind)> and the map left
 * open for the rest of the event; close it with jsonw_map_close().
 */
void message_event_open(struct jsonw *w, uint64_t seq, enum xgm_event kind);

/* {"type":"snapshot-end","seq":..} */
void message_snapshot_end(struct jsonw *w, uint64_t seq);

/* {"type":"lost","count":..,"first_seq":..,"last_seq":..} */
void message_lost(struct jsonw *w, uint64_t count, uint64_t first_seq, uint64_t last_seq);

/* {"type":"bye","reason":..} */
void message_bye(struct jsonw *w, const char *reason);
