import type { TurnPlace } from '../new-call-rule.ts';
import { LUA_NOW_MS, LuaScript, type ScriptRunner } from './lua-script.ts';

/*
 * A call in Redis is a hash (KEYS[1]) and, in memory.mode full, its memory (KEYS[2], a JSON
 * string). Hash fields:
 *   epoch  the turn id that started this call (a new call under the same id gets a new epoch, so
 *          a turn of the old call can no longer write into it);
 *   sid    the newest sentenceId accepted;
 *   open   how the newest turn's conversation began (conversationOpening, comma-joined);
 *   seen   when a turn last began or ended (Redis clock, ms);
 *   owner  "replicaId|turnId" of the turn answering, "" when none;
 *   fail   turns in a row that ended in an apology.
 * Both keys expire after the agent's memory.idleMinutes without a turn.
 */

/**
 * BEGIN: the new-call rule (placeTurn in new-call-rule.ts, the same decisions) and the takeover in
 * one atomic step, so two turns of one call can never both be the answering one.
 * ARGV: sentenceId ('' none), opening, replicaId, turnId, idleMs, newCallAfterMs, keep ('1' when
 * the agent keeps memory), cancel channel. A previous owner on another replica is told through
 * the channel (its turn id); one on this replica is the caller's to abort.
 * Reply: {'late'} or {place, previous owner, failed turns, epoch, memory JSON or nil}.
 */
const BEGIN = new LuaScript(`${LUA_NOW_MS}
local function nth(list, k)
  local i = 0
  for item in string.gmatch(list, '[^,]+') do
    i = i + 1
    if i == k then return item end
  end
  return nil
end
local function count(list)
  local n = 0
  for _ in string.gmatch(list, '[^,]+') do n = n + 1 end
  return n
end
-- continuesOpening: the candidate's first messages are the remembered call's first messages.
local function continues(remembered, candidate)
  local n = count(candidate)
  return n > 0 and nth(remembered, n) ~= nil and nth(remembered, n) == nth(candidate, n)
end
local call = redis.call('HMGET', KEYS[1], 'epoch', 'sid', 'open', 'seen', 'owner', 'fail')
local sid = tonumber(ARGV[1])
local latest = tonumber(call[2])
local owner = call[5] or ''
local place = 'same_call'
if call[1] and sid and latest and sid < latest then
  if owner == '' and now - tonumber(call[4]) >= tonumber(ARGV[6]) then
    place = 'new_call'
  elseif sid <= 1 and not continues(call[3] or '', ARGV[2]) then
    place = 'new_call'
  else
    return {'late'}
  end
end
local epoch = call[1]
local fail = tonumber(call[6]) or 0
if place == 'new_call' or not epoch then
  redis.call('DEL', KEYS[1], KEYS[2])
  epoch = ARGV[4]
  fail = 0
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'fail', 0)
end
if sid then redis.call('HSET', KEYS[1], 'sid', ARGV[1]) end
redis.call('HSET', KEYS[1], 'open', ARGV[2], 'seen', now, 'owner', ARGV[3] .. '|' .. ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local memory = false
if ARGV[7] == '1' then
  memory = redis.call('GET', KEYS[2])
  if memory then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
else
  redis.call('DEL', KEYS[2])
end
if owner ~= '' then
  local bar = string.find(owner, '|', 1, true)
  if bar and string.sub(owner, 1, bar - 1) ~= ARGV[3] then redis.call('PUBLISH', ARGV[8], string.sub(owner, bar + 1)) end
end
return {place, owner, tostring(fail), epoch, memory}`);

/**
 * END: the turn is over. Only into the call it began in (same epoch): it stops being the owner
 * (unless a newer turn took over), the call is touched, the failure count and, in memory.mode
 * full, the memory are written, except by a late answer to an older question (memory must not
 * roll back).
 * ARGV: epoch, owner ("replicaId|turnId"), sentenceId (''), failed turns ('' unchanged),
 * memory JSON, idleMs, remember ('1' to write the memory).
 * Reply: 1, or 0 when the call was since forgotten or replaced.
 */
const END = new LuaScript(`${LUA_NOW_MS}
local call = redis.call('HMGET', KEYS[1], 'epoch', 'owner', 'sid')
if call[1] ~= ARGV[1] then return 0 end
if call[2] == ARGV[2] then redis.call('HSET', KEYS[1], 'owner', '') end
redis.call('HSET', KEYS[1], 'seen', now)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'fail', ARGV[4]) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
local sid = tonumber(ARGV[3])
local latest = tonumber(call[3])
if ARGV[7] == '1' and not (sid and latest and sid < latest) then
  redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
else
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return 1`);

export interface CallKeys {
  readonly call: string;
  readonly memory: string;
}

export interface BeginArgs {
  sentenceId: number | undefined;
  opening: readonly string[];
  replicaId: string;
  turnId: string;
  idleMs: number;
  newCallAfterMs: number;
  keepTranscript: boolean;
  cancelChannel: string;
}

export type BeginReply =
  | { place: 'late' }
  | { place: Exclude<TurnPlace, 'late'>; previousOwner: Owner | undefined; failedTurns: number; epoch: string; memory: string | undefined };

/** Who answers a call: a turn on a replica. */
export interface Owner {
  replicaId: string;
  turnId: string;
}

export async function beginScript(redis: ScriptRunner, keys: CallKeys, args: BeginArgs): Promise<BeginReply> {
  const reply = (await BEGIN.run(
    redis,
    [keys.call, keys.memory],
    [
      args.sentenceId === undefined ? '' : String(args.sentenceId),
      args.opening.join(','),
      args.replicaId,
      args.turnId,
      Math.max(1, Math.round(args.idleMs)),
      Math.round(args.newCallAfterMs),
      args.keepTranscript ? '1' : '0',
      args.cancelChannel,
    ],
  )) as [string, string?, string?, string?, (string | null)?];
  const [place, owner = '', failed = '0', epoch = '', memory] = reply;
  if (place === 'late') return { place };
  if (place !== 'same_call' && place !== 'new_call') throw new Error(`unexpected BEGIN reply ${place}`);
  return { place, previousOwner: parseOwner(owner), failedTurns: Number(failed), epoch, memory: memory ?? undefined };
}

export interface EndArgs {
  epoch: string;
  owner: Owner;
  sentenceId: number | undefined;
  /** Undefined: unchanged by this turn. */
  failedTurns: number | undefined;
  /** Undefined: the memory is not written (window mode, or nothing to remember). */
  memory: string | undefined;
  idleMs: number;
}

/** Whether the turn's call was still there to end (not forgotten, not replaced by a new call). */
export async function endScript(redis: ScriptRunner, keys: CallKeys, args: EndArgs): Promise<boolean> {
  const reply = await END.run(
    redis,
    [keys.call, keys.memory],
    [
      args.epoch,
      ownerToken(args.owner),
      args.sentenceId === undefined ? '' : String(args.sentenceId),
      args.failedTurns === undefined ? '' : String(args.failedTurns),
      args.memory ?? '',
      Math.max(1, Math.round(args.idleMs)),
      args.memory === undefined ? '0' : '1',
    ],
  );
  return reply === 1;
}

export function ownerToken(owner: Owner): string {
  return `${owner.replicaId}|${owner.turnId}`;
}

function parseOwner(token: string): Owner | undefined {
  const bar = token.indexOf('|');
  return bar < 0 ? undefined : { replicaId: token.slice(0, bar), turnId: token.slice(bar + 1) };
}
