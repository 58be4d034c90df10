import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';

export class CreateSuppressionDto {
  @ApiPropertyOptional({ example: 'user-42', description: 'Exactly one of userId and anonymousId' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) userId?: string;
  @ApiPropertyOptional({ example: 'a1b2c3' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) anonymousId?: string;
  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Only these sources (default: all)' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @IsUUID('all', { each: true }) sourceIds?: string[];
}

export class ListSuppressionsDto {
  @ApiPropertyOptional({ default: false, description: 'Include lifted suppressions' })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean() all?: boolean;
}

export class SuppressionIdParams {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id!: string;
}

export class SuppressionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiPropertyOptional({ nullable: true }) userId: string | null;
  @ApiPropertyOptional({ nullable: true }) anonymousId: string | null;
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'null: every source' }) sourceIds: string[] | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: Date;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) liftedAt: Date | null;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ example: 'user-42', description: 'Exactly one of userId and anonymousId' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) userId?: string;
  @ApiPropertyOptional({ example: 'a1b2c3' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) anonymousId?: string;
  @ApiPropertyOptional({ type: [String], description: 'Only these sources (default: all); repeat the parameter', format: 'uuid' })
  @IsOptional() @Transform(({ value }) => (typeof value === 'string' ? [value] : value)) @IsArray() @ArrayMaxSize(1000) @IsUUID('all', { each: true }) sourceIds?: string[];
}
