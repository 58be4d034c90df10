import { Module } from '@nestjs/common';
import { RedisConnections } from './redis-connections';

/** Every Redis connection of the process (Bull's, pub/sub, rate limits) comes from here. */
@Module({ providers: [RedisConnections], exports: [RedisConnections] })
export class RedisModule {}
