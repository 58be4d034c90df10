import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { KeyProtected } from '../auth/key-protected.decorator';
import type { KeyPrincipal, Principal } from '../domain/principal';
import { MeService } from './me.service';

export class ReachableSourceDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class MeDto {
  @ApiProperty({ example: '0f6b1c9e-2f0c-4d1e-9a43-6f1f7c2b8e11' }) id: string;
  @ApiProperty({ example: 'a1B2c3D4', description: 'Non-secret id that appears inside the key' }) keyId: string;
  @ApiProperty({ enum: ['write', 'read', 'admin'] }) kind: string;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Write keys: their source' }) sourceId: string | null;
  @ApiPropertyOptional({ nullable: true, type: [String], description: 'Read keys: their sources; null: every source' }) sourceIds: string[] | null;
  @ApiProperty({ type: [ReachableSourceDto], description: 'The sources this key may read (a write key: its own), by name' }) sources: ReachableSourceDto[];
}

/**
 * What the presented key is and may reach: the console asks this first, so it shows exactly what
 * the key may do. Any kind of key may ask about itself; the answer holds no secret.
 */
@KeyProtected('me', ['admin', 'read', 'write'], 'Never: every kind of key may ask about itself')
@Controller('v1/me')
export class MeController {
  constructor(private readonly me: MeService) {}

  @Get()
  @ApiOperation({ summary: 'The presented key: its id, kind and source scope (never its secret)' })
  @ApiOkResponse({ type: MeDto })
  get(@CurrentPrincipal() principal: Principal): Promise<MeDto> {
    return this.me.describe(principal as KeyPrincipal);
  }
}
