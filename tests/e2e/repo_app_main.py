"""FastAPI app for the repository-pattern end-to-end check.

Written into the generated package as its main.py by check_repositories.py, which
replaces the `app.` of the imports below with the layout's module prefix (`shop.` in a
src layout, nothing in a flat one). Every route goes through the generated repositories
(Author, Post) and schemas.
"""

from typing import Any

from fastapi import FastAPI, HTTPException, Response, status

from app.api.v1.dependencies.author_repository import AuthorRepositoryDep
from app.api.v1.dependencies.post_repository import PostRepositoryDep
from app.infrastructure.database.models import AuthorModel, PostModel
from app.schemas.author import AuthorCreate, AuthorRead
from app.schemas.post import PostCreate, PostRead, PostUpdate

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/authors", status_code=status.HTTP_201_CREATED, response_model=AuthorRead)
async def create_author(body: AuthorCreate, authors: AuthorRepositoryDep) -> AuthorModel:
    if await authors.exists(name=body.name):
        raise HTTPException(status.HTTP_409_CONFLICT, "name taken")
    return await authors.add(AuthorModel(**body.model_dump()))


@app.get("/authors/{author_id}", response_model=AuthorRead)
async def get_author(author_id: int, authors: AuthorRepositoryDep) -> AuthorModel:
    found = await authors.get(author_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return found


@app.post("/posts", status_code=status.HTTP_201_CREATED, response_model=PostRead)
async def create_post(
    body: PostCreate, posts: PostRepositoryDep, authors: AuthorRepositoryDep
) -> PostModel:
    if not await authors.exists(id=body.author_id):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no such author")
    return await posts.add(PostModel(**body.model_dump()))


@app.get("/posts")
async def list_posts(
    posts: PostRepositoryDep,
    offset: int = 0,
    limit: int = 50,
    author_id: int | None = None,
) -> dict[str, Any]:
    filters = {} if author_id is None else {"author_id": author_id}
    page = await posts.get_many(offset=offset, limit=limit, **filters)
    return {
        "items": [PostRead.model_validate(p).model_dump(mode="json") for p in page],
        "total": await posts.count(**filters),
    }


@app.get("/posts/{post_id}", response_model=PostRead)
async def get_post(post_id: int, posts: PostRepositoryDep) -> PostModel:
    found = await posts.get(post_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return found


@app.patch("/posts/{post_id}", response_model=PostRead)
async def update_post(
    post_id: int, body: PostUpdate, posts: PostRepositoryDep
) -> PostModel:
    found = await posts.get(post_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return await posts.update(found, body.model_dump(exclude_unset=True))


@app.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_post(post_id: int, posts: PostRepositoryDep) -> Response:
    found = await posts.get(post_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    await posts.delete(found)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
