//! Accounts in the store.

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{now_ms, Store, StoreError};
use crate::model::{Account, AccountId, AccountSettings, AccountState, NewAccount, ProviderKind};

const COLUMNS: &str = "id, provider, address, display_name, sync_enabled, state, \
     coalesce(json_extract(settings, '$.demo'), 0) = 1 AS demo";

fn account_from_row(row: &SqliteRow) -> Result<Account, StoreError> {
    let provider: String = row.try_get("provider")?;
    let state: String = row.try_get("state")?;
    Ok(Account {
        id: row.try_get("id")?,
        provider: ProviderKind::parse(&provider).ok_or_else(|| StoreError::Corrupt {
            table: "accounts",
            detail: format!("unknown provider {provider:?}"),
        })?,
        address: row.try_get("address")?,
        display_name: row.try_get("display_name")?,
        sync_enabled: row.try_get("sync_enabled")?,
        state: AccountState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            table: "accounts",
            detail: format!("unknown state {state:?}"),
        })?,
        demo: row.try_get("demo")?,
    })
}

impl Store {
    /// Every account, in the order they were added.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// One account.
    pub async fn account(&self, id: AccountId) -> Result<Account, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("account"))?;
        account_from_row(&row)
    }

    /// An account's provider settings (base URL, client id, window ...).
    pub async fn account_settings(&self, id: AccountId) -> Result<AccountSettings, StoreError> {
        let (provider, text): (String, String) =
            sqlx::query_as("SELECT provider, settings FROM accounts WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("account"))?;
        let provider = ProviderKind::parse(&provider).ok_or_else(|| StoreError::Corrupt {
            table: "accounts",
            detail: format!("unknown provider {provider:?}"),
        })?;
        AccountSettings::from_json(provider, &text).map_err(|e| StoreError::Corrupt {
            table: "accounts",
            detail: format!("the settings of account {id} do not read: {e}"),
        })
    }

    /// The Azure DevOps organisations of the accounts, with the host their
    /// links use when it is not Azure DevOps' own (a stand-in's).
    pub async fn known_orgs(&self) -> Result<Vec<crate::links::KnownOrg>, StoreError> {
        let ids: Vec<AccountId> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE provider = 'ado' ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let mut orgs = Vec::with_capacity(ids.len());
        for id in ids {
            let Ok(AccountSettings::Ado(ado)) = self.account_settings(id).await else {
                continue;
            };
            let hosts = url::Url::parse(&ado.api_base)
                .ok()
                .and_then(|u| {
                    let host = u.host_str()?.to_owned();
                    Some(match u.port() {
                        Some(port) => format!("{host}:{port}"),
                        None => host,
                    })
                })
                .into_iter()
                .collect();
            orgs.push(crate::links::KnownOrg {
                name: ado.organization,
                hosts,
            });
        }
        Ok(orgs)
    }

    /// Adds an account, or updates the display name and settings of the one
    /// with the same provider and address. Returns it.
    pub async fn upsert_account(&self, new: &NewAccount) -> Result<Account, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO accounts (provider, address, display_name, settings, created_at, sync_enabled)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (provider, address) DO UPDATE
             SET display_name = excluded.display_name, settings = excluded.settings,
                 sync_enabled = excluded.sync_enabled
             RETURNING {COLUMNS}"
        ))
        .bind(new.provider.as_str())
        .bind(&new.address)
        .bind(&new.display_name)
        .bind(new.settings.to_json())
        .bind(now_ms())
        .bind(new.sync_enabled)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        account_from_row(&row)
    }

    /// Runs `update` (an UPDATE of one account row, its id bound last) in a
    /// write transaction; `NotFound` when no such account exists.
    async fn update_account<'q>(
        &self,
        update: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if update.execute(&mut *tx).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound("account"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records an account's sign-in state.
    pub async fn set_account_state(
        &self,
        id: AccountId,
        state: AccountState,
    ) -> Result<(), StoreError> {
        self.update_account(
            sqlx::query("UPDATE accounts SET state = ? WHERE id = ?")
                .bind(state.as_str())
                .bind(id),
        )
        .await
    }

    /// Switches one account's sync on or off.
    pub async fn set_account_sync_enabled(
        &self,
        id: AccountId,
        enabled: bool,
    ) -> Result<(), StoreError> {
        self.update_account(
            sqlx::query("UPDATE accounts SET sync_enabled = ? WHERE id = ?")
                .bind(enabled)
                .bind(id),
        )
        .await
    }

    /// Replaces an account's provider settings (never secrets).
    pub async fn set_account_settings(
        &self,
        id: AccountId,
        settings: &AccountSettings,
    ) -> Result<(), StoreError> {
        self.update_account(
            sqlx::query("UPDATE accounts SET settings = ? WHERE id = ?")
                .bind(settings.to_json())
                .bind(id),
        )
        .await
    }

    /// Removes an account and everything synced for it.
    pub async fn remove_account(&self, id: AccountId) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM accounts WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("account"));
        }
        tx.commit().await?;
        Ok(())
    }
}
