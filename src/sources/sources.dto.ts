import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export class CreateSourceDto {
  @ApiProperty({ example: 'web-app', description: 'Human name of the source (1-200 characters)' })
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;
}

export class WriteKeySummaryDto {
  @ApiProperty({ example: 'a1B2c3D4', description: 'Non-secret id that appears inside the key' }) keyId: string;
  @ApiProperty({ example: 'sk_write_a1B2c3D4_…', description: 'Visible prefix; the secret part is never shown again' }) prefix: string;
  @ApiProperty() createdAt: Date;
  @ApiPropertyOptional({ nullable: true, type: Date }) lastUsedAt: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) revokedAt: Date | null;
}

export class SourceDto {
  @ApiProperty({ example: '5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e21' }) id: string;
  @ApiProperty({ example: 'web-app' }) name: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ type: [WriteKeySummaryDto] }) writeKeys: WriteKeySummaryDto[];
}

export class CreatedSourceDto {
  @ApiProperty({ example: '5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e21' }) id: string;
  @ApiProperty({ example: 'web-app' }) name: string;
  @ApiProperty({ example: 'sk_write_a1B2c3D4_5xQk0bVt8Jd2Lr6Nw9Yz1Hc4Fg7Pm3Ta', description: 'Shown once: only a hash is stored.' })
  writeKey: string;
  @ApiProperty() createdAt: Date;
}
