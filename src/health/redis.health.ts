import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Queue } from 'bull';
import { QueueName } from '../queue/queue.constants';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue,
    private readonly health: HealthIndicatorService,
  ) {}

  async pingCheck(key: string, timeoutMs = 1000) {
    const check = this.health.check(key);
    const client = this.queue.client;
    if (client.status !== 'ready') return check.down({ message: `connection is ${client.status}` });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs))),
      ]);
      return check.up();
    } catch (err) {
      return check.down({ message: (err as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
