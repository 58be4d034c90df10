import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SdkSettingsController } from './sdk-settings.controller';

/** The settings the browser SDKs load before they send (analytics.js, RudderStack JS). */
@Module({ imports: [AuthModule], controllers: [SdkSettingsController] })
export class SdkSettingsModule {}
