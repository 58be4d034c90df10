import { Body, Controller, Get, HttpCode, Post, UseGuards, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse, ApiCreatedResponse, ApiBadRequestResponse } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard';
import { CreatedSourceDto, CreateSourceDto, SourceDto } from './sources.dto';
import { SourcesService } from './sources.service';

@ApiTags('admin')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'Missing or wrong admin token' })
@UseGuards(AdminGuard)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
@Controller('v1/admin/sources')
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a source and its write key (the key is shown once)' })
  @ApiCreatedResponse({ type: CreatedSourceDto })
  @ApiBadRequestResponse({ description: 'Invalid name' })
  create(@Body() body: CreateSourceDto): Promise<CreatedSourceDto> {
    return this.sources.createSource(body.name);
  }

  @Get()
  @ApiOperation({ summary: 'List sources with their write keys (without secrets)' })
  @ApiOkResponse({ type: [SourceDto] })
  list(): Promise<SourceDto[]> {
    return this.sources.listSources();
  }
}
