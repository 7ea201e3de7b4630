"""FastAPI app for the end-to-end check: uses the generated DBSession and UserModel.

Copied into the generated project as app/main.py by check_project.py.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.api.v1.dependencies.database import DBSession
from app.infrastructure.database.models import UserModel
from app.infrastructure.database.session import close_db


class UserIn(BaseModel):
    email: str
    full_name: str | None = None


class UserPatch(BaseModel):
    full_name: str | None = None
    is_active: bool | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
    await close_db()


app = FastAPI(lifespan=lifespan)


@app.exception_handler(IntegrityError)
async def integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
    return JSONResponse({"detail": "conflict"}, status_code=status.HTTP_409_CONFLICT)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(body: UserIn, session: DBSession) -> UserOut:
    user = UserModel(email=body.email, full_name=body.full_name)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "email already registered"
        ) from exc
    return UserOut.model_validate(user)


@app.post("/users/batch", status_code=status.HTTP_202_ACCEPTED)
async def create_users(body: list[UserIn], session: DBSession) -> dict[str, int]:
    """Add without flushing: a conflict surfaces only at the dependency's commit,
    which must happen before the response is sent, so the client sees the 409."""
    session.add_all(UserModel(email=u.email, full_name=u.full_name) for u in body)
    return {"queued": len(body)}


@app.get("/users/{user_id}")
async def read_user(user_id: int, session: DBSession) -> UserOut:
    user = await session.get(UserModel, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return UserOut.model_validate(user)


@app.patch("/users/{user_id}")
async def update_user(user_id: int, body: UserPatch, session: DBSession) -> UserOut:
    user = await session.get(UserModel, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(user, key, value)
    await session.flush()
    return UserOut.model_validate(user)


@app.get("/users")
async def list_users(session: DBSession) -> list[dict[str, object]]:
    users = await session.scalars(select(UserModel).order_by(UserModel.id))
    return [user.to_dict() for user in users]
