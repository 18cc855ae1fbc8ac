import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Scope } from '../../domain/arns';
import type { AccountSetting } from '../../domain/account-settings';
import { accountSettingKey, accountSettingsPartition } from './keys';

/**
 * Account settings, one item each in the account+region's partition. A put replaces the whole value
 * and reads nothing first, so two racing puts cannot lose an update: the last one is the setting,
 * as in ECS. The partition holds at most (principals x 11 names), so it is read whole.
 */
export class AccountSettingRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(scope: Scope, setting: AccountSetting): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...accountSettingKey(scope, setting.principalArn, setting.name), kind: 'account-setting', doc: setting },
      }),
    );
  }

  /** Removes a setting; answers the one removed, if there was one. */
  async delete(scope: Scope, principalArn: string, name: string): Promise<AccountSetting | undefined> {
    const { Attributes } = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: accountSettingKey(scope, principalArn, name), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes?.doc as AccountSetting | undefined;
  }

  async all(scope: Scope): Promise<AccountSetting[]> {
    const settings: AccountSetting[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': accountSettingsPartition(scope) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      settings.push(...(page.Items ?? []).map((item) => item.doc as AccountSetting));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return settings;
  }
}
