import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
} from '@nestjs/common';
import { KeyProtected } from '../auth/key-protected.decorator';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import type { Actor } from '../audit/actor';
import { CurrentActor } from '../audit/actor';
import { CreatedSourceDto, CreateSourceDto, SourceDto, UpdateSourceDto } from './sources.dto';
import { SourcesService } from './sources.service';

@KeyProtected('admin', ['admin'], 'Not an admin key')
@Controller('v1/admin/sources')
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a source and its write key (the key is shown once)' })
  @ApiCreatedResponse({ type: CreatedSourceDto })
  @ApiBadRequestResponse({ description: 'Invalid name' })
  create(@Body() body: CreateSourceDto, @CurrentActor() actor: Actor): Promise<CreatedSourceDto> {
    return this.sources.createSource(body.name, actor);
  }

  @Get()
  @ApiOperation({ summary: 'List sources with their limits and write keys (without secrets)' })
  @ApiOkResponse({ type: [SourceDto] })
  list(): Promise<SourceDto[]> {
    return this.sources.listSources();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One source' })
  @ApiOkResponse({ type: SourceDto })
  @ApiNotFoundResponse()
  get(@Param('id', ParseUUIDPipe) id: string): Promise<SourceDto> {
    return this.sources.getSource(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Rename a source or set its rate limits and daily quota (null: global default)',
  })
  @ApiOkResponse({ type: SourceDto })
  @ApiNotFoundResponse()
  update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateSourceDto,
    @CurrentActor() actor: Actor,
  ): Promise<SourceDto> {
    return this.sources.updateSource(id, body, actor);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a source and its keys (stored events are kept)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  remove(@Param('id', ParseUUIDPipe) id: string, @CurrentActor() actor: Actor): Promise<void> {
    return this.sources.deleteSource(id, actor);
  }
}
