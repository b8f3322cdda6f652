// weft::patterns — the concurrency patterns of *Concurrency in Go*, as a library.
//
//   or_channel   one done channel for many                     patterns/or_channel.hpp
//   or_done      range over a channel you do not own           patterns/or_done.hpp
//   tee          one channel into two                          patterns/tee.hpp
//   bridge       a channel of channels into one channel        patterns/bridge.hpp
//   generator, repeat, repeat_fn, take                         patterns/generators.hpp
//   stage        a pipeline stage                              patterns/stage.hpp
//   buffer       a queue between stages                        patterns/buffer.hpp
//   fan_out, fan_in                                            patterns/fan_out.hpp, fan_in.hpp
//   heartbeat    interval and per-work-unit                    patterns/heartbeat.hpp
//   replicated   first answer of n replicas wins               patterns/replicated.hpp
//   steward      restart a goroutine that stops pulsing        patterns/steward.hpp
//   result<T>    a value or the error that prevented it        patterns/result.hpp
//
// The rule they all keep, the book's: never start a goroutine without knowing
// how it will stop. Every pattern that starts goroutines takes a done channel
// (done_chan, a recv_chan<unit>; pass ctx.done() to use a weft::context, or the
// nil channel for "never"); closing it makes each of those goroutines return
// and close the channels it owns, whether it was waiting to receive or to
// send. A goroutine owns exactly the channels it creates and is the only one
// to close them; patterns never close their inputs. Once a goroutine has seen
// done closed it starts no new receive or send (Go's select would pick at
// random), so at most one value already on offer reaches a consumer after
// done closes. Built on weft's public primitives only: channels, select, go,
// timers, wait_group, context.
#pragma once

#include "weft/patterns/bridge.hpp"
#include "weft/patterns/buffer.hpp"
#include "weft/patterns/fan_in.hpp"
#include "weft/patterns/fan_out.hpp"
#include "weft/patterns/generators.hpp"
#include "weft/patterns/heartbeat.hpp"
#include "weft/patterns/or_channel.hpp"
#include "weft/patterns/or_done.hpp"
#include "weft/patterns/replicated.hpp"
#include "weft/patterns/result.hpp"
#include "weft/patterns/stage.hpp"
#include "weft/patterns/steward.hpp"
#include "weft/patterns/tee.hpp"
