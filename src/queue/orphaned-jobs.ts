import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import './bull-internals';
import { PersistEventsJob, QueueName } from './queue.constants';

// Every job in `active` that this process locked (Bull's lock value is the Queue's token) but
// is not running any more goes back to the head of `wait` at once: its completion was lost with
// the Redis connection. Bull's own stalled check would find it only after the lock lapses and
// two more check intervals. It is not counted as a stall: the job did nothing wrong.
// KEYS: active, wait, paused, meta-paused. ARGV: key prefix of jobs, token, running job ids...
const RECOVER = `
local running = {}
for i = 3, #ARGV do running[ARGV[i]] = true end
local target = KEYS[2]
if redis.call('EXISTS', KEYS[4]) == 1 then target = KEYS[3] end
local moved = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if not running[id] then
    local lock = ARGV[1] .. id .. ':lock'
    if redis.call('GET', lock) == ARGV[2] and redis.call('LREM', KEYS[1], 1, id) > 0 then
      redis.call('DEL', lock)
      redis.call('RPUSH', target, id)
      table.insert(moved, id)
    end
  end
end
return moved
`;

/** Puts back jobs a worker holds the lock of but lost track of when its Redis connection dropped. */
@Injectable()
export class OrphanedJobs {
  constructor(@InjectQueue(QueueName.Events) private readonly queue: Queue<PersistEventsJob>) {}

  /** Returns the ids of the jobs moved back to `wait`. `running`: jobs this process is still working on. */
  async recover(running: Iterable<string>): Promise<string[]> {
    const q = this.queue;
    const moved = (await q.client.eval(RECOVER, 4, q.toKey('active'), q.toKey('wait'), q.toKey('paused'), q.toKey('meta-paused'), q.toKey(''), q.token, ...running)) as string[];
    return moved;
  }
}
