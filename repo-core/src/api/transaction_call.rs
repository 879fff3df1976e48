//! `Repo::transaction`: calling a named transaction through the stack.

use std::marker::PhantomData;

use futures::future::BoxFuture;

use crate::call::{CallContext, WriteCall, WriteOp};
use crate::error::RepoError;
use crate::repo::Repo;
use crate::request::{Action, Operation, Request};
use crate::response::Outcome;
use crate::transaction::{NamedTransaction, decode, encode};

/// `Repo::transaction::<T>(args)`.
#[derive(Debug)]
pub struct RunTransaction<T: NamedTransaction> {
    args: T::Args,
    _transaction: PhantomData<fn() -> T>,
}

impl<T: NamedTransaction> WriteOp for RunTransaction<T>
where
    T::Args: Sync,
{
    type Output = T::Output;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<T::Output, RepoError>> {
        Box::pin(async move {
            if !call.repo.transactions().contains(T::NAME) {
                return Err(RepoError::UnknownTransaction(T::NAME.to_owned()));
            }
            let args = encode(T::NAME, "arguments", &self.args)?;
            let operation = Operation::Transaction {
                name: T::NAME.to_owned(),
                args,
            };
            let request = Request::new(Action::Transaction(T::NAME.to_owned()), T::NAME, operation);
            match call.repo.call(request, &call.options).await?.outcome {
                Outcome::Transaction(output) => decode(T::NAME, "output", &output),
                other => Err(RepoError::Codec(format!(
                    "expected the output of `{}`, got {other:?}",
                    T::NAME
                ))),
            }
        })
    }
}

impl Repo {
    /// Runs the named transaction `T` with `args` in one database transaction, wherever
    /// writes go (locally, or on the primary). `T` must be registered with
    /// [`crate::RepoBuilder::transaction`] on this node and on the one that executes it.
    pub fn transaction<T: NamedTransaction>(&self, args: T::Args) -> WriteCall<RunTransaction<T>>
    where
        T::Args: Sync,
    {
        WriteCall::new(
            self,
            RunTransaction {
                args,
                _transaction: PhantomData,
            },
        )
    }
}
