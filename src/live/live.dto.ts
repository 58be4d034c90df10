import { ApiPropertyOptional } from '@nestjs/swagger';
import { Allow } from 'class-validator';
import { EVENT_TYPES } from '../domain/events/event-types';

/** The live route's query string; parseLiveFilter checks the values (its messages name the field). */
export class LiveQueryDto {
  @ApiPropertyOptional({ description: `Comma-separated call types to show: ${EVENT_TYPES.join(', ')}. Default: all.`, example: 'track,identify' })
  @Allow()
  type?: unknown;

  @ApiPropertyOptional({ description: 'Show only events of this exact name (a track event, a page or screen name); repeat the parameter for several.', example: 'Order Completed', type: [String] })
  @Allow()
  event?: unknown;
}
